"""'Kontakta mig': a relative asks to be contacted, with consent asked for when missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.extensions import db
from guide.models import Alert, Consent, ConsentPurpose, Event, Relative
from guide.services.contact import ContactRequest, request_contact
from guide.services.enrolment import CONSENT_VERSION
from guide.services.followup import FollowupError
from tests.checkin_support import (
    KONTROLL_CONTENT,
    NO_CONTACT,
    enrolled,
    enrolled_now,
    log_in_relative,
    relative_token,
)
from tests.conftest import at

ASKED = at("2026-03-04 18:30")


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def alerts() -> list[Alert]:
    return list(db.session.scalars(select(Alert).order_by(Alert.id)))


def contact_consents() -> list[Consent]:
    return list(
        db.session.scalars(select(Consent).where(Consent.purpose == ConsentPurpose.CONTACT))
    )


def test_every_relative_page_links_to_kontakta_mig(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    log_in_relative(client, enrolment.relative)
    link = '<a href="/min-guide/kontakta-mig">Kontakta mig</a>'
    for page in ("/min-guide/", f"/min-guide/{enrolment.id}/valkommen", "/min-guide/kontakta-mig"):
        assert link in client.get(page).get_data(as_text=True), page


def test_contact_request_raises_an_alert_for_the_unit_that_issued_the_card(app) -> None:  # type: ignore[no-untyped-def]
    case = enrolled(unit=None)
    request = ContactRequest(phone="070-123 45 67", message="Ring gärna efter fem.")

    alert = request_contact(db.session, case.relative, case.enrolment, request, ASKED)
    db.session.commit()

    assert (alert.unit_id, alert.organisation_id) == (
        case.tenant.unit.id,
        case.tenant.organisation.id,
    )
    assert (alert.source, alert.priority, alert.status) == ("contact_request", "normal", "open")
    assert (alert.phone, alert.message, alert.created_at) == (
        "070-123 45 67",
        "Ring gärna efter fem.",
        ASKED,
    )
    kinds = db.session.scalars(select(Event.kind).order_by(Event.id)).all()
    assert kinds[-2:] == ["contact_requested", "alert_raised"]


def test_a_card_from_another_unit_sends_the_request_there(app) -> None:  # type: ignore[no-untyped-def]
    first = enrolled()
    case = enrolled(tenant=first.tenant, unit=first.tenant.other_unit, email="b@example.se")
    alert = request_contact(
        db.session, case.relative, case.enrolment, ContactRequest(email="b@example.se"), ASKED
    )
    assert alert.unit_id == first.tenant.other_unit.id


def test_contact_needs_consent_and_records_it_when_given_then(app) -> None:  # type: ignore[no-untyped-def]
    case = enrolled(consents=NO_CONTACT)

    with pytest.raises(FollowupError) as refused:
        request_contact(
            db.session, case.relative, case.enrolment, ContactRequest(phone="0701234567"), ASKED
        )
    assert refused.value.code == "consent_required"
    db.session.rollback()
    assert alerts() == []

    request_contact(
        db.session,
        case.relative,
        case.enrolment,
        ContactRequest(phone="0701234567", consent=True),
        ASKED,
    )
    db.session.commit()

    consent = contact_consents()[-1]
    assert (consent.granted, consent.version, consent.recorded_at) == (True, CONSENT_VERSION, ASKED)
    assert case.relative.consent(ConsentPurpose.CONTACT)
    assert len(alerts()) == 1


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (ContactRequest(), "contact_missing"),
        (ContactRequest(phone="ring mig"), "phone_invalid"),
        (ContactRequest(phone="123"), "phone_invalid"),
        (ContactRequest(email="inte-en-adress"), "email_invalid"),
        (ContactRequest(phone="0701234567", message="x" * 2001), "text_too_long"),
    ],
)
def test_contact_request_says_what_to_fix(app, request_: ContactRequest, code: str) -> None:  # type: ignore[no-untyped-def]
    case = enrolled()
    with pytest.raises(FollowupError) as refused:
        request_contact(db.session, case.relative, case.enrolment, request_, ASKED)
    assert refused.value.code == code


def test_a_second_request_joins_the_alert_that_still_waits(app) -> None:  # type: ignore[no-untyped-def]
    case = enrolled()
    request_contact(
        db.session, case.relative, case.enrolment, ContactRequest(phone="0701234567"), ASKED
    )
    request_contact(
        db.session,
        case.relative,
        case.enrolment,
        ContactRequest(email="ny@example.se", message="Hellre mejl."),
        at("2026-03-05 08:00"),
    )
    db.session.commit()

    (alert,) = alerts()
    assert (alert.phone, alert.contact_email, alert.message) == (
        "0701234567",
        "ny@example.se",
        "Hellre mejl.",
    )
    assert alert.created_at == ASKED  # the wait is counted from the first request


def test_contact_page_asks_for_consent_first_when_missing(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now(consents=NO_CONTACT)
    log_in_relative(client, case.relative)

    page = client.get("/min-guide/kontakta-mig").get_data(as_text=True)
    assert 'id="consent_contact" name="consent_contact"' in page
    assert "Personal från enheten som gav mig kortet får kontakta mig" in page
    assert 'value="anhorig@example.se"' in page  # the e-mail field starts with the account's

    refused = client.post("/min-guide/kontakta-mig", data={"phone": "0701234567"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'class="error-summary"' in html and 'href="#consent_contact"' in html
    assert alerts() == []

    done = client.post(
        "/min-guide/kontakta-mig",
        data={"phone": "0701234567", "message": "Helst kväll", "consent_contact": "yes"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "Vi hör av oss" in done.get_data(as_text=True)
    assert len(contact_consents()) == 2  # the "no" at activation, then this "yes"
    assert alerts()[0].message == "Helst kväll"


def test_contact_page_does_not_ask_again_for_given_consent(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    log_in_relative(client, case.relative)

    page = client.get("/min-guide/kontakta-mig").get_data(as_text=True)
    assert "consent_contact" not in page
    assert "Din fråga går till Anhörigstöd." in page

    response = client.post(
        "/min-guide/kontakta-mig", data={"email": "anhorig@example.se", "phone": ""}
    )
    assert response.status_code == 302
    alert = alerts()[0]
    assert alert.contact_email == "anhorig@example.se" and alert.phone is None


def test_contact_page_shows_what_to_fix_next_to_the_field(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    log_in_relative(client, case.relative)

    response = client.post("/min-guide/kontakta-mig", data={"phone": "abc", "email": ""})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#phone"' in html and 'id="phone-error"' in html
    assert 'aria-describedby="phone-error" aria-invalid="true"' in html


def test_contact_page_lets_a_relative_with_two_guides_choose(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    first = enrolled_now()
    second = enrolled_now(tenant=first.tenant, unit=first.tenant.other_unit)
    log_in_relative(client, first.relative)
    assert first.relative.id == second.relative.id  # one account, two cards

    page = client.get("/min-guide/kontakta-mig").get_data(as_text=True)
    assert '<select id="enrolment" name="enrolment">' in page and "Psykiatrin" in page

    client.post(
        "/min-guide/kontakta-mig",
        data={"enrolment": str(second.enrolment.id), "phone": "0701234567"},
    )
    assert alerts()[0].unit_id == first.tenant.other_unit.id


def test_contact_page_without_a_guide_says_so(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    relative = Relative(email="utan-guide@example.se")
    db.session.add(relative)
    db.session.commit()
    log_in_relative(client, relative)

    html = client.get("/min-guide/kontakta-mig").get_data(as_text=True)

    assert "Du har ingen aktiv guide" in html and "<form" not in html.split("<main")[1]


def test_api_contact_request_needs_consent_then_raises_an_alert(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now(consents=NO_CONTACT)
    headers = relative_token(case.relative)

    refused = client.post(
        "/api/v1/me/contact-request", json={"phone": "0701234567"}, headers=headers
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "consent_required"

    created = client.post(
        "/api/v1/me/contact-request",
        json={"phone": "0701234567", "message": "Ring mig", "consent": True},
        headers=headers,
    )
    assert created.status_code == 201
    assert created.get_json()["enrolment"] == case.enrolment.id
    assert alerts()[0].phone == "0701234567"


def test_api_contact_request_without_phone_uses_the_account_address(
    app, client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    headers = relative_token(case.relative)

    created = client.post("/api/v1/me/contact-request", json={}, headers=headers)

    assert created.status_code == 201
    assert alerts()[0].contact_email == "anhorig@example.se"
    bad = client.post("/api/v1/me/contact-request", json={"phone": 701234567}, headers=headers)
    assert bad.get_json()["error"] == "phone_invalid"
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1
