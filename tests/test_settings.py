"""Mina inställningar (issue 13 item 1): pause, language, hour, mail, consents; every change an event."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.extensions import db
from guide.models import Alert, ConsentPurpose, Enrolment, Event, OutboxMessage, Relative
from guide.models.base import utcnow
from guide.services import settings
from guide.services.followup import contact_details, queue_query
from guide.services.library import current_library
from guide.services.privacy import statistics_excluded
from scheduler.jobs import deliver_outbox, release_due
from tests.checkin_support import (
    ACTIVATED,
    KONTROLL_CONTENT,
    enrolled,
    enrolled_now,
    log_in_relative,
    log_in_staff,
    relative_token,
)
from tests.conftest import at
from tests.factories import sent_mail


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def notices(enrolment: Enrolment) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.enrolment_id == enrolment.id, OutboxMessage.kind == "notice")
            .order_by(OutboxMessage.id)
        )
    )


def kinds(enrolment: Enrolment) -> list[str]:
    return list(
        db.session.scalars(
            select(Event.kind).where(Event.enrolment_id == enrolment.id).order_by(Event.id)
        )
    )


def tick(now: object) -> None:
    release_due(db.session, current_library(), now)  # type: ignore[arg-type]
    deliver_outbox(db.session, now)  # type: ignore[arg-type]


# -- pause and resume ------------------------------------------------------------------


def test_a_paused_guide_sends_nothing_and_resuming_sends_one_catch_up_mail(app: Flask) -> None:
    enrolment = enrolled().enrolment
    tick(ACTIVATED + timedelta(minutes=5))
    before = len(notices(enrolment))
    settings.pause(db.session, enrolment, ACTIVATED + timedelta(hours=1))
    db.session.commit()

    for day in range(1, 21):  # three weeks of ticks at the preferred hour
        tick(at("2026-03-02 09:00") + timedelta(days=day))
    assert len(notices(enrolment)) == before
    released = {r.module_id for r in db.session.get_one(Enrolment, enrolment.id).releases}
    assert released == {"valkommen"}

    resumed_at = at("2026-03-22 12:00")
    settings.resume(db.session, enrolment, resumed_at)
    db.session.commit()
    tick(resumed_at)
    tick(resumed_at + timedelta(minutes=1))  # a second tick must not add another

    after = notices(enrolment)
    assert len(after) == before + 1
    catch_up = after[-1]
    assert catch_up.status == "sent"
    assert len(catch_up.payload["releases"]) >= 1 and catch_up.payload["checkins"]
    assert kinds(enrolment).count("paused") == 1
    assert "resumed" in kinds(enrolment)
    # And the journey goes on from there: the next day's tick is an ordinary one.
    tick(resumed_at + timedelta(days=1))
    assert len(notices(enrolment)) == before + 1


def test_pausing_over_the_api_is_per_enrolment_and_only_ones_own(
    app: Flask, client: FlaskClient
) -> None:
    first = enrolled_now()
    mine = first.enrolment
    theirs = enrolled_now(tenant=first.tenant, email="annan@example.se").enrolment
    headers = relative_token(mine.relative)

    refused = client.patch(
        "/api/v1/me/settings", json={"paused": {str(theirs.id): True}}, headers=headers
    )
    assert refused.status_code == 404
    for no_row in ("2147483648", "9999999999"):
        answer = client.patch(
            "/api/v1/me/settings", json={"paused": {no_row: True}}, headers=headers
        )
        assert answer.status_code == 404
    db.session.expire_all()
    assert db.session.get_one(Enrolment, theirs.id).paused_at is None

    answer = client.patch(
        "/api/v1/me/settings", json={"paused": {str(mine.id): True}}, headers=headers
    )
    assert answer.status_code == 200 and answer.json["paused"] == {str(mine.id): True}
    db.session.expire_all()
    assert db.session.get_one(Enrolment, mine.id).paused_at is not None

    resumed = client.patch(
        "/api/v1/me/settings", json={"paused": {str(mine.id): False}}, headers=headers
    )
    assert resumed.json["paused"] == {str(mine.id): False}
    db.session.expire_all()
    again = db.session.get_one(Enrolment, mine.id)
    assert again.paused_at is None and again.next_due_at is not None
    assert again.next_due_at <= utcnow()


def test_another_relatives_token_sees_only_its_own_settings_and_export(
    app: Flask, client: FlaskClient
) -> None:
    first = enrolled_now()
    mine = first.enrolment
    theirs = enrolled_now(tenant=first.tenant, email="annan@example.se").enrolment
    headers = relative_token(theirs.relative)
    answer = client.get("/api/v1/me/settings", headers=headers).json
    assert list(answer["paused"]) == [str(theirs.id)]
    export = client.get("/api/v1/me/export", headers=headers).json
    assert export["account"]["email"] == "annan@example.se"
    assert [e["id"] for e in export["enrolments"]] == [theirs.id]
    page = client.post(
        f"/mina-installningar/paus/{mine.id}", data={"paused": "yes"}, headers=headers
    )
    assert page.status_code in (302, 404)  # no session: sent to log in; never pauses mine
    log_in_relative(client, theirs.relative)
    assert (
        client.post(f"/mina-installningar/paus/{mine.id}", data={"paused": "yes"}).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get_one(Enrolment, mine.id).paused_at is None


def test_pausing_and_resuming_on_the_page(app: Flask, client: FlaskClient) -> None:
    enrolment = enrolled_now().enrolment
    log_in_relative(client, enrolment.relative)
    page = client.get("/mina-installningar/").get_data(as_text=True)
    assert "Pausa guiden" in page
    client.post(f"/mina-installningar/paus/{enrolment.id}", data={"paused": "yes"})
    page = client.get("/mina-installningar/").get_data(as_text=True)
    assert "Guiden är pausad" in page and "Starta guiden igen" in page
    client.post(f"/mina-installningar/paus/{enrolment.id}", data={"paused": "no"})
    assert kinds(enrolment).count("paused") == kinds(enrolment).count("resumed") == 1


# -- language, hour, full text -------------------------------------------------------


def test_language_hour_and_full_text_change_and_each_is_an_event(
    app: Flask, client: FlaskClient
) -> None:
    enrolment = enrolled_now().enrolment
    headers = relative_token(enrolment.relative)
    answer = client.patch(
        "/api/v1/me/settings",
        json={"language": "en", "preferred_hour": 18, "full_text": True},
        headers=headers,
    )
    assert answer.status_code == 200
    assert (answer.json["language"], answer.json["preferred_hour"], answer.json["full_text"]) == (
        "en",
        18,
        True,
    )
    db.session.expire_all()
    relative = db.session.get_one(Relative, enrolment.relative_id)
    assert (relative.language, relative.full_text_email) == ("en", True)
    assert db.session.get_one(Enrolment, enrolment.id).preferred_hour == 18
    assert {"language_changed", "preferred_hour_changed", "full_text_changed"} <= set(
        kinds(enrolment)
    )
    # The same again changes nothing and records nothing.
    count = len(kinds(enrolment))
    client.patch("/api/v1/me/settings", json={"language": "en"}, headers=headers)
    assert len(kinds(enrolment)) == count


@pytest.mark.parametrize("hour", [7, 21, -1, "9"])
def test_a_preferred_hour_outside_8_to_20_is_refused(
    app: Flask, client: FlaskClient, hour: object
) -> None:
    enrolment = enrolled_now().enrolment
    answer = client.patch(
        "/api/v1/me/settings",
        json={"preferred_hour": hour},
        headers=relative_token(enrolment.relative),
    )
    assert answer.status_code == 400 and answer.json["error"] == "preferred_hour_invalid"


def test_the_settings_page_ties_an_error_to_its_field(app: Flask, client: FlaskClient) -> None:
    enrolment = enrolled_now().enrolment
    log_in_relative(client, enrolment.relative)
    answer = client.post("/mina-installningar/", data={"language": "sv", "preferred_hour": "22"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert (
        'id="preferred_hour-error"' in page
        and "preferred_hour-error" in page.split('id="preferred_hour"')[1].split(">")[0]
    )
    saved = client.post(
        "/mina-installningar/", data={"language": "sv", "preferred_hour": "19", "full_text": "yes"}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(Enrolment, enrolment.id).preferred_hour == 19


def test_every_relative_page_and_mail_links_to_mina_installningar(
    app: Flask, client: FlaskClient
) -> None:
    enrolment = enrolled_now().enrolment
    log_in_relative(client, enrolment.relative)
    link = '<a href="/mina-installningar/">Mina inställningar</a>'
    for page in ("/min-guide/", "/min-guide/kontakta-mig", "/mina-installningar/"):
        assert link in client.get(page).get_data(as_text=True), page
    deliver_outbox(db.session, utcnow())
    welcome = sent_mail(enrolment.relative.email)[0]
    assert "http://lots.test/mina-installningar/" in welcome.text_body
    assert 'href="http://lots.test/mina-installningar/"' in welcome.html_body


# -- consents ------------------------------------------------------------------------


def test_consents_are_shown_with_wording_and_date(app: Flask, client: FlaskClient) -> None:
    enrolment = enrolled_now().enrolment
    consents = client.get("/api/v1/me/settings", headers=relative_token(enrolment.relative)).json[
        "consents"
    ]
    assert [c["purpose"] for c in consents] == ["service", "contact", "statistics"]
    assert all(c["granted"] and c["version"] and c["recorded_at"] and c["text"] for c in consents)
    log_in_relative(client, enrolment.relative)
    page = client.get("/mina-installningar/").get_data(as_text=True)
    assert "Personal från enheten som gav mig kortet får kontakta mig" in page
    assert "Du godkände detta" in page


def test_withdrawing_contact_hides_the_details_from_staff_at_once(
    app: Flask, client: FlaskClient
) -> None:
    from guide.services.contact import ContactRequest, request_contact

    case = enrolled_now()
    now = utcnow()
    alert = request_contact(
        db.session,
        case.relative,
        case.enrolment,
        ContactRequest(phone="070-111 22 33", message="Ring mig"),
        now,
    )
    db.session.commit()
    log_in_staff(client, case.tenant.staff)
    assert "070-111 22 33" in client.get(f"/personal/uppfoljning/{alert.id}").get_data(as_text=True)

    api = client.application.test_client()
    answer = api.delete(
        "/api/v1/me/consents/contact", json={}, headers=relative_token(case.relative)
    )
    assert answer.status_code == 200
    db.session.expire_all()
    staff_page = client.get(f"/personal/uppfoljning/{alert.id}")
    assert staff_page.status_code == 200
    assert "070-111 22 33" not in staff_page.get_data(as_text=True)
    assert (
        contact_details(db.session, case.tenant.staff, db.session.get_one(Alert, alert.id), now)
        is None
    )
    # The alert stays in the queue, without the details.
    assert alert.id in [a.id for a in db.session.scalars(queue_query(case.tenant.staff))]
    assert "consent_withdrawn" in kinds(case.enrolment)


def test_withdrawing_statistics_takes_the_relative_out_of_the_figures(
    app: Flask, client: FlaskClient
) -> None:
    case = enrolled_now()
    other = enrolled_now(tenant=case.tenant, email="annan@example.se")
    headers = relative_token(case.relative)

    def excluded() -> set[int]:
        return set(db.session.scalars(statistics_excluded()))

    assert case.relative.id not in excluded() and other.relative.id not in excluded()
    client.delete("/api/v1/me/consents/statistics", json={}, headers=headers)
    db.session.expire_all()
    assert excluded() & {case.relative.id, other.relative.id} == {case.relative.id}
    # What statistics count: the enrolment leaves every figure derived from it.
    counted = db.session.scalars(
        select(Enrolment.id).where(Enrolment.relative_id.not_in(statistics_excluded()))
    ).all()
    assert case.enrolment.id not in counted and other.enrolment.id in counted
    client.put("/api/v1/me/consents/statistics", headers=headers)
    db.session.expire_all()
    assert case.relative.id not in excluded()
    assert kinds(case.enrolment).count("consent_withdrawn") == 1
    assert kinds(case.enrolment).count("consent_given") == 1


def test_withdrawing_the_service_consent_is_erasure_and_needs_confirmation(
    app: Flask, client: FlaskClient
) -> None:
    case = enrolled_now()
    headers = relative_token(case.relative)
    refused = client.delete("/api/v1/me/consents/service", json={}, headers=headers)
    assert refused.status_code == 400
    assert db.session.get_one(Relative, case.relative.id).deleted_at is None
    done = client.delete("/api/v1/me/consents/service", json={"confirm": True}, headers=headers)
    assert done.status_code == 204
    db.session.expire_all()
    assert db.session.get_one(Relative, case.relative.id).deleted_at is not None
    # On the page, withdrawing the service goes to the erase page.
    other = enrolled_now(tenant=case.tenant, email="annan@example.se")
    log_in_relative(client, other.relative)
    answer = client.post("/mina-installningar/samtycke/service", data={"granted": "no"})
    assert answer.headers["Location"].endswith("/mina-installningar/radera")


def test_an_unknown_purpose_is_404(app: Flask, client: FlaskClient) -> None:
    case = enrolled_now()
    answer = client.put("/api/v1/me/consents/marketing", headers=relative_token(case.relative))
    assert answer.status_code == 404
    assert (
        db.session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "consent_given")
        )
        == 0
    )
    assert ConsentPurpose.CONTACT.value == "contact"


# -- the audit log (item 6) ----------------------------------------------------------


def test_the_organisation_admin_sees_who_read_contact_details_even_after_erasure(
    app: Flask, client: FlaskClient
) -> None:
    from guide.services.contact import ContactRequest, request_contact
    from guide.services.privacy import erase_relative

    case = enrolled_now()
    alert = request_contact(
        db.session, case.relative, case.enrolment, ContactRequest(phone="070-555 66 77"), utcnow()
    )
    db.session.commit()
    log_in_staff(client, case.tenant.staff)
    client.get(f"/personal/uppfoljning/{alert.id}")
    log_in_staff(client, case.tenant.admin)
    page = client.get("/admin/granskning/").get_data(as_text=True)
    assert case.tenant.staff.email in page and f"Ärende {alert.id}" in page

    erase_relative(db.session, case.relative, utcnow())
    db.session.commit()
    page = client.get("/admin/granskning/").get_data(as_text=True)
    assert case.tenant.staff.email in page and f"Ärende {alert.id}" in page
    assert "070-555 66 77" not in page and "anhorig@example.se" not in page
    # Unit staff have no such page; another organisation's admin sees none of it.
    log_in_staff(client, case.tenant.staff)
    assert client.get("/admin/granskning/").status_code == 403
    from tests.factories import make_tenant

    other = make_tenant("grannkommunen")
    log_in_staff(client, other.admin)
    assert f"Ärende {alert.id}" not in client.get("/admin/granskning/").get_data(as_text=True)


# -- e-mail address change -----------------------------------------------------------


def _confirmation_link(address: str) -> str:
    import re

    deliver_outbox(db.session, utcnow())
    mail = sent_mail(address)[-1]
    assert mail.subject == "Bekräfta din nya e-postadress"
    (link,) = re.findall(r"http://lots.test(/mina-installningar/ny-adress/\S+)", mail.text_body)
    return str(link)


def test_a_new_address_takes_effect_only_when_confirmed_from_it(
    app: Flask, client: FlaskClient
) -> None:
    case = enrolled_now()
    log_in_relative(client, case.relative)
    answer = client.post("/mina-installningar/e-post", data={"email": "Ny.Adress@Example.se"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(Relative, case.relative.id).email == "anhorig@example.se"
    link = _confirmation_link("ny.adress@example.se")

    shown = client.application.test_client().get(link)  # a mail scanner opening the link
    assert shown.status_code == 200 and "ny.adress@example.se" in shown.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(Relative, case.relative.id).email == "anhorig@example.se"

    confirmed = client.application.test_client().post(link)
    assert confirmed.status_code == 302
    db.session.expire_all()
    relative = db.session.get_one(Relative, case.relative.id)
    assert relative.email == "ny.adress@example.se" and relative.email_proved_at is not None
    assert {"email_change_requested", "email_changed"} <= set(kinds(case.enrolment))
    # The link works once: the address it started from is gone.
    assert client.application.test_client().post(link).status_code == 404
    # The session from before the change has ended.
    assert client.get("/mina-installningar/").status_code == 302


def test_an_address_of_another_account_gets_no_mail_and_a_bad_one_an_error(
    app: Flask, client: FlaskClient
) -> None:
    case = enrolled_now()
    enrolled_now(tenant=case.tenant, email="upptagen@example.se")
    deliver_outbox(db.session, utcnow())
    log_in_relative(client, case.relative)
    before = len(sent_mail("upptagen@example.se"))
    answer = client.post("/mina-installningar/e-post", data={"email": "upptagen@example.se"})
    assert answer.status_code == 302  # told the same as for any address
    deliver_outbox(db.session, utcnow())
    assert len(sent_mail("upptagen@example.se")) == before
    bad = client.post("/mina-installningar/e-post", data={"email": "inte en adress"})
    assert bad.status_code == 400 and 'id="email-error"' in bad.get_data(as_text=True)
    assert client.get("/mina-installningar/ny-adress/forfalskad").status_code == 404
