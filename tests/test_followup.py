"""The staff follow-up queue: order, who sees what, contact details, contact and close, mail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.extensions import db
from guide.mail.delivery import send_now
from guide.models import (
    Alert,
    AuditLog,
    CapturedMail,
    Consent,
    ConsentPurpose,
    Event,
    OutboxMessage,
    StaffRole,
)
from guide.services.accounts import create_staff
from guide.services.followup import (
    FollowupError,
    alert_for_staff,
    close_alert,
    mark_contacted,
    queue_query,
    raise_alert,
    time_to_first_contact,
    urgent_mail,
)
from guide.services.library import current_library
from guide.services.needs import tick_needs
from tests.checkin_support import (
    KONTROLL_CONTENT,
    NO_CONTACT,
    Enrolled,
    enrolled,
    log_in_staff,
)
from tests.conftest import at
from tests.factories import PASSWORD, make_tenant, staff_token

RAISED = at("2026-03-05 12:00")


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def alert_for(case: Enrolled, priority: str = "normal", now=RAISED, **details) -> Alert:  # type: ignore[no-untyped-def]
    alert = raise_alert(
        db.session,
        case.enrolment,
        priority=priority,  # type: ignore[arg-type]
        source=details.pop("source", "rule"),
        reason=details.pop("reason", "Låg ork"),
        now=now,
        **details,
    )
    db.session.commit()
    return alert


def audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog)) or 0


# -- the queue ------------------------------------------------------------------------


def test_queue_lists_urgent_first_then_the_oldest(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    newest = alert_for(enrolled(tenant, "a@example.se"), now=RAISED + timedelta(hours=2))
    oldest = alert_for(enrolled(tenant, "b@example.se"), now=RAISED)
    urgent = alert_for(enrolled(tenant, "c@example.se"), "urgent", now=RAISED + timedelta(hours=5))

    order = [a.id for a in db.session.scalars(queue_query(tenant.staff))]
    assert order == [urgent.id, oldest.id, newest.id]

    log_in_staff(client, tenant.staff)
    html = client.get("/personal/uppfoljning/").get_data(as_text=True)
    shown = [html.index(f'/personal/uppfoljning/{alert_id}"') for alert_id in order]
    assert shown == sorted(shown)
    assert "Brådskande" in html and "Låg ork" in html
    assert "a@example.se" not in html  # the list never shows who


def test_staff_see_their_units_alerts_and_admins_their_organisations(  # type: ignore[no-untyped-def]
    app, client: FlaskClient
) -> None:
    tenant = make_tenant()
    own = alert_for(enrolled(tenant, "a@example.se"))
    elsewhere = alert_for(enrolled(tenant, "b@example.se", unit=tenant.other_unit))

    log_in_staff(client, tenant.staff)
    html = client.get("/personal/uppfoljning/").get_data(as_text=True)
    assert f'/personal/uppfoljning/{own.id}"' in html
    assert f'/personal/uppfoljning/{elsewhere.id}"' not in html
    assert client.get(f"/personal/uppfoljning/{elsewhere.id}").status_code == 404

    log_in_staff(client, tenant.admin)
    html = client.get("/personal/uppfoljning/").get_data(as_text=True)
    assert f'/personal/uppfoljning/{own.id}"' in html
    assert f'/personal/uppfoljning/{elsewhere.id}"' in html


def test_staff_of_another_organisation_see_nothing(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    alert = alert_for(enrolled(tenant), "urgent")
    other = make_tenant("grannkommunen")
    before = audit_rows()

    for outsider in (other.staff, other.admin):
        log_in_staff(client, outsider)
        assert "Inga ärenden just nu." in client.get("/personal/uppfoljning/").get_data(
            as_text=True
        )
        assert client.get(f"/personal/uppfoljning/{alert.id}").status_code == 404
        assert client.post(f"/personal/uppfoljning/{alert.id}/kontaktad").status_code == 404
        assert client.post(f"/personal/uppfoljning/{alert.id}/stang").status_code == 404

        headers = staff_token(outsider)
        assert client.get("/api/v1/alerts?status=all", headers=headers).get_json() == {"alerts": []}
        assert client.get(f"/api/v1/alerts/{alert.id}", headers=headers).status_code == 404
        closed = client.post(f"/api/v1/alerts/{alert.id}/close", headers=headers)
        assert closed.status_code == 404 and closed.get_json()["error"] == "alert_not_found"

    db.session.refresh(alert)
    assert alert.status == "open" and alert.first_contact_at is None and alert.notes == []
    assert audit_rows() == before
    with pytest.raises(FollowupError):
        alert_for_staff(db.session, other.admin, alert.id)


def test_editors_have_no_follow_up_queue(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    alert_for(enrolled(tenant))
    editor = create_staff(
        db.session, "redaktor@kommunen.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
    )
    db.session.commit()

    log_in_staff(client, editor)
    assert client.get("/personal/uppfoljning/").status_code == 403
    assert client.get("/api/v1/alerts", headers=staff_token(editor)).status_code == 403


def test_the_queue_needs_a_staff_login(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/personal/uppfoljning/")
    assert response.status_code == 302 and "/personal/logga-in" in response.headers["Location"]
    assert client.get("/api/v1/alerts").status_code == 401


# -- one alert ------------------------------------------------------------------------


def test_contact_details_are_shown_with_consent_and_every_view_is_logged(  # type: ignore[no-untyped-def]
    app, client: FlaskClient
) -> None:
    case = enrolled(email="anna@example.se")
    guide = current_library().guide("kontroll")
    tick_needs(db.session, guide, case.enrolment, "valkommen", ["prata"], RAISED)
    alert = alert_for(
        case,
        source="contact_request",
        reason="Vill bli kontaktad",
        phone="070-123 45 67",
        message="Ring efter fem.",
    )
    log_in_staff(client, case.tenant.staff)

    html = client.get(f"/personal/uppfoljning/{alert.id}").get_data(as_text=True)

    assert "070-123 45 67" in html and "anna@example.se" in html and "Ring efter fem." in html
    assert "Jag vill prata med någon" in html
    assert "Att du ser uppgifterna loggas" in html
    client.get(f"/personal/uppfoljning/{alert.id}")
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.staff_user_id, r.action, r.target_type, r.target_id) for r in rows] == [
        (case.tenant.staff.id, "view_contact_details", "alert", alert.id)
    ] * 2


def test_contact_details_stay_hidden_without_consent(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled(email="anna@example.se", consents=NO_CONTACT)
    alert = alert_for(case)
    log_in_staff(client, case.tenant.staff)

    html = client.get(f"/personal/uppfoljning/{alert.id}").get_data(as_text=True)

    assert "Låg ork" in html and "har inte samtyckt" in html
    assert "anna@example.se" not in html
    assert audit_rows() == 0


def test_withdrawn_consent_hides_contact_details_again(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled(email="anna@example.se")
    alert = alert_for(case, phone="0701234567", source="contact_request")
    case.relative.consents.append(
        Consent(purpose=ConsentPurpose.CONTACT, version="2026-11", granted=False)
    )
    db.session.commit()
    log_in_staff(client, case.tenant.staff)

    html = client.get(f"/personal/uppfoljning/{alert.id}").get_data(as_text=True)

    assert "0701234567" not in html and "anna@example.se" not in html


def test_marking_contacted_records_the_time_to_first_contact(app) -> None:  # type: ignore[no-untyped-def]
    case = enrolled()
    alert = alert_for(case)
    staff = case.tenant.staff

    mark_contacted(db.session, staff, alert, "Pratade en stund.", RAISED + timedelta(hours=2))
    mark_contacted(db.session, staff, alert, "Ringde igen.", RAISED + timedelta(hours=26))
    db.session.commit()

    assert alert.status == "contacted"
    assert alert.first_contact_at == RAISED + timedelta(hours=2)
    assert time_to_first_contact(alert) == timedelta(hours=2)
    assert [(n.action, n.note, n.staff_user_id) for n in alert.notes] == [
        ("contacted", "Pratade en stund.", staff.id),
        ("contacted", "Ringde igen.", staff.id),
    ]
    kinds = db.session.scalars(select(Event.kind).where(Event.kind.like("alert_%"))).all()
    assert kinds == ["alert_raised", "alert_contacted", "alert_contacted"]


def test_closing_takes_the_alert_out_of_the_queue(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled()
    alert = alert_for(case)
    log_in_staff(client, case.tenant.staff)

    contacted = client.post(
        f"/personal/uppfoljning/{alert.id}/kontaktad",
        data={"note": "Nådde henne."},
        follow_redirects=True,
    )
    assert "markerat som kontaktat" in contacted.get_data(as_text=True)
    assert "Nådde henne." in contacted.get_data(as_text=True)
    closed = client.post(f"/personal/uppfoljning/{alert.id}/stang", follow_redirects=True)

    assert "Ärendet är stängt." in closed.get_data(as_text=True)
    assert f'/personal/uppfoljning/{alert.id}"' not in closed.get_data(as_text=True)
    listing = client.get("/personal/uppfoljning/?visa=stangda").get_data(as_text=True)
    assert f'/personal/uppfoljning/{alert.id}"' in listing
    db.session.refresh(alert)
    assert alert.status == "closed" and alert.closed_at is not None
    again = client.post(f"/personal/uppfoljning/{alert.id}/stang", follow_redirects=True)
    assert "redan stängt" in again.get_data(as_text=True)
    with pytest.raises(FollowupError):
        close_alert(db.session, case.tenant.staff, alert, "", RAISED)


def test_a_new_alert_after_contact_opens_a_new_case(app) -> None:  # type: ignore[no-untyped-def]
    case = enrolled()
    first = alert_for(case)
    mark_contacted(db.session, case.tenant.staff, first, "", RAISED + timedelta(hours=1))
    second = alert_for(case, now=RAISED + timedelta(days=1))
    assert second.id != first.id and second.status == "open"


# -- urgent mail ----------------------------------------------------------------------


def test_urgent_alert_mails_the_units_staff_a_link_and_nothing_personal(app) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    make_tenant("grannkommunen")
    case = enrolled(tenant, email="anna@example.se")
    alert_for(case, "normal", phone="0701234567", message="Hemligt")
    assert urgent_mail(db.session, db.session.scalars(select(Alert)).all()) == []

    alert = alert_for(case, "urgent", source="crisis", reason="Svar som tyder på kris")
    queued = urgent_mail(db.session, [alert])

    assert [m.recipient for m in queued] == [tenant.staff.email]
    assert queued[0].payload == {"alert_id": alert.id} and queued[0].relative_id is None
    for message in queued:
        send_now(db.session, message)
    mail = db.session.scalars(select(CapturedMail)).one()
    assert mail.subject == "Brådskande: en anhörig behöver kontakt"
    assert f"http://lots.test/personal/uppfoljning/{alert.id}" in mail.text_body
    assert f"/personal/uppfoljning/{alert.id}" in mail.html_body
    for body in (mail.subject, mail.text_body, mail.html_body):
        for private in ("anna@example.se", "0701234567", "Hemligt", "Låg ork", "kris"):
            assert private not in body
    # Raised again while waiting: no second mail.
    alert_for(case, "urgent", source="crisis", reason="Svar som tyder på kris")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_urgent_alert_for_a_unit_without_staff_goes_to_the_organisations_admins(app) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    alert = alert_for(enrolled(tenant, unit=tenant.other_unit), "urgent")
    assert [m.recipient for m in urgent_mail(db.session, [alert])] == [tenant.admin.email]


# -- API ------------------------------------------------------------------------------


def test_api_lists_the_queue_without_personal_details(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    normal = alert_for(enrolled(tenant, "a@example.se"), phone="0701234567")
    urgent = alert_for(enrolled(tenant, "b@example.se"), "urgent", source="crisis")
    headers = staff_token(tenant.staff)

    response = client.get("/api/v1/alerts", headers=headers)

    body = response.get_json()
    assert [a["id"] for a in body["alerts"]] == [urgent.id, normal.id]
    assert body["alerts"][1] == {
        "id": normal.id,
        "priority": "normal",
        "source": "rule",
        "reason": "Låg ork",
        "status": "open",
        "guide": "kontroll",
        "unit": "anhorigstod",
        "created_at": RAISED.isoformat(),
        "first_contact_at": None,
        "seconds_to_first_contact": None,
        "closed_at": None,
        "due_at": RAISED.isoformat(),
        "target_at": at("2026-03-12 17:00").isoformat(),  # the default 7 days
        "overdue": True,  # this test runs long after 12 March 2026
        "assigned_to_me": False,
    }
    text = response.get_data(as_text=True)
    assert "a@example.se" not in text and "0701234567" not in text
    assert client.get("/api/v1/alerts?status=closed", headers=headers).get_json() == {"alerts": []}
    assert client.get("/api/v1/alerts?status=nej", headers=headers).status_code == 400


def test_api_shows_one_alert_with_contact_details_and_logs_it(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled(email="anna@example.se")
    alert = alert_for(case, phone="0701234567", source="contact_request", message="Hej")

    body = client.get(
        f"/api/v1/alerts/{alert.id}", headers=staff_token(case.tenant.staff)
    ).get_json()

    assert body["contact"] == {
        "account_email": "anna@example.se",
        "phone": "0701234567",
        "email": None,
        "message": "Hej",
        "needs": [],
    }
    assert audit_rows() == 1


def test_api_marks_contacted_and_closes(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled()
    alert = alert_for(case)
    headers = staff_token(case.tenant.admin)

    contacted = client.post(
        f"/api/v1/alerts/{alert.id}/contacted", json={"note": "Samtal"}, headers=headers
    )
    closed = client.post(f"/api/v1/alerts/{alert.id}/close", headers=headers)
    again = client.post(f"/api/v1/alerts/{alert.id}/close", json={}, headers=headers)

    assert contacted.status_code == 200 and contacted.get_json()["status"] == "contacted"
    assert contacted.get_json()["seconds_to_first_contact"] >= 0
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert again.status_code == 409 and again.get_json()["error"] == "alert_closed"
    assert [n.action for n in alert.notes] == ["contacted", "closed"]


def test_openapi_describes_the_follow_up_routes(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/alerts"]
    assert "post" in paths["/alerts/{alert_id}/close"]
    assert "post" in paths["/alerts/{alert_id}/contacted"]
    assert "get" in paths["/alerts/{alert_id}"]
