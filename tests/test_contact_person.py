"""'Din kontaktperson': taking a case, the staff profile, what Min guide and the API show."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import Alert, Consent, ConsentPurpose, StaffRole
from guide.services.accounts import create_staff
from guide.services.contact_person import save_profile
from guide.services.followup import raise_alert
from guide.services.library import current_library
from scheduler.jobs import release_due
from tests.checkin_support import log_in_relative, log_in_staff, relative_token
from tests.conftest import at
from tests.factories import ALL_CONSENTS, PASSWORD, enrol, issue_cards, make_tenant, staff_token
from tests.rules_on_objects import shown_contact
from tests.test_followup_calls import ACTIVATED, CALL_DUE, FOLLOWUP_CONTENT

NO_CONTACT = {**ALL_CONSENTS, ConsentPurpose.CONTACT: False}


@pytest.fixture
def content_dir() -> Path:
    return FOLLOWUP_CONTENT


def case_for(tenant, email="anhorig@example.se", consents=None):  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit, now=ACTIVATED)[0]
    enrolment = enrol(card, email, now=ACTIVATED, consents=consents)
    release_due(db.session, current_library(), CALL_DUE)
    db.session.expire_all()
    return enrolment, db.session.scalar(select(Alert).where(Alert.enrolment_id == enrolment.id))


def test_taking_a_case_makes_the_staff_member_the_contact_person(
    app: Flask, client: FlaskClient
) -> None:
    tenant = make_tenant()
    save_profile(db.session, tenant.staff, "Karin", "Anhörigkonsulent", "Måndag–torsdag 9–11")
    db.session.commit()
    enrolment, alert = case_for(tenant)
    assert shown_contact(enrolment).name == "Anhörigstöd"  # the unit, at first

    response = client.post(f"/api/v1/alerts/{alert.id}/take", headers=staff_token(tenant.staff))
    assert response.status_code == 200
    assert response.get_json()["assigned_to_me"] is True

    journey = client.get("/api/v1/me/journey", headers=relative_token(enrolment.relative))
    (shown,) = journey.get_json()["enrolments"]
    assert shown["contact_person"] == {
        "name": "Karin",
        "role": "Anhörigkonsulent",
        "reach": "Måndag–torsdag 9–11",
    }
    log_in_relative(client, enrolment.relative)
    page = client.get("/min-guide/").get_data(as_text=True)
    assert "Din kontaktperson" in page and "Karin" in page and "Måndag–torsdag 9–11" in page


def test_later_cases_go_to_the_contact_person_first_and_the_unit_still_sees_them(
    app: Flask, client: FlaskClient
) -> None:
    tenant = make_tenant()
    colleague = create_staff(
        db.session,
        "kollega@kommunen.se",
        StaffRole.STAFF,
        tenant.organisation,
        tenant.unit,
        PASSWORD,
    )
    db.session.commit()
    enrolment, alert = case_for(tenant)
    log_in_staff(client, tenant.staff)
    assert client.post(f"/personal/uppfoljning/{alert.id}/ta").status_code == 302
    client.post(f"/personal/uppfoljning/{alert.id}/stang", data={"note": ""})
    later = raise_alert(
        db.session,
        enrolment,
        priority="normal",
        source="rule",
        reason="Låg ork",
        now=at("2026-04-01 10:00"),
    )
    db.session.commit()
    assert later.assigned_staff_id == tenant.staff.id
    mine = client.get("/personal/uppfoljning/?visa=mina").get_data(as_text=True)
    assert f"Ärende {later.id}" in mine
    listed = client.get("/api/v1/alerts", headers=staff_token(colleague)).get_json()["alerts"]
    assert [a["id"] for a in listed] == [later.id]
    assert listed[0]["assigned_to_me"] is False

    # A colleague of the unit hands the relative over.
    log_in_staff(client, colleague)
    response = client.post(
        f"/personal/uppfoljning/{later.id}/kontaktperson", data={"staff": colleague.id}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Alert, later.id).assigned_staff_id == colleague.id  # type: ignore[union-attr]


def test_only_staff_of_the_issuing_unit_can_be_the_contact_person(
    app: Flask, client: FlaskClient
) -> None:
    tenant = make_tenant()
    _, alert = case_for(tenant)
    # The organisation admin sees the case but belongs to no unit.
    response = client.post(f"/api/v1/alerts/{alert.id}/take", headers=staff_token(tenant.admin))
    assert response.status_code == 400
    assert response.get_json()["error"] == "staff_not_in_unit"


def test_without_contact_consent_the_relative_sees_the_units_contact_only(
    app: Flask, client: FlaskClient
) -> None:
    tenant = make_tenant()
    save_profile(db.session, tenant.staff, "Karin", "Kurator", "070-000 00 00")
    db.session.commit()
    card = issue_cards(tenant.unit, now=ACTIVATED)[0]
    enrolment = enrol(card, now=ACTIVATED)
    alert = raise_alert(
        db.session, enrolment, priority="normal", source="rule", reason="x", now=ACTIVATED
    )
    db.session.commit()
    client.post(f"/api/v1/alerts/{alert.id}/take", headers=staff_token(tenant.staff))
    assert shown_contact(enrolment).name == "Karin"
    # The relative withdraws the consent to be contacted.
    enrolment.relative.consents.append(
        Consent(purpose=ConsentPurpose.CONTACT, version="1", granted=False, recorded_at=ACTIVATED)
    )
    db.session.commit()
    assert not enrolment.relative.consent(ConsentPurpose.CONTACT)
    shown = shown_contact(enrolment)
    assert (shown.name, shown.reach, shown.personal) == ("Anhörigstöd", "Ring enheten", False)


def test_the_profile_page_saves_what_relatives_see_and_asks_for_a_name(
    app: Flask, client: FlaskClient
) -> None:
    tenant = make_tenant()
    log_in_staff(client, tenant.staff)
    response = client.post(
        "/personal/uppfoljning/min-profil", data={"display_name": " ", "role": "", "reach": ""}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'aria-describedby="display_name-error"' in page
    response = client.post(
        "/personal/uppfoljning/min-profil",
        data={"display_name": "Karin", "role": "Kurator", "reach": "Tisdagar 13–15"},
    )
    assert response.status_code == 302
    assert "Tisdagar 13–15" in client.get("/personal/uppfoljning/min-profil").get_data(as_text=True)


def test_min_guide_offers_a_call_and_one_click_gives_consent_and_asks_for_it(
    app: Flask, client: FlaskClient
) -> None:
    tenant = make_tenant()
    enrolment, alert = case_for(tenant, consents=NO_CONTACT)
    assert alert is None
    log_in_relative(client, enrolment.relative)
    offer = f'id="call-offer-guide-{enrolment.id}"'  # a check-in may ask the same words
    page = client.get("/min-guide/").get_data(as_text=True)
    assert offer in page and "Vill du att någon ringer dig?" in page
    response = client.post(f"/min-guide/{enrolment.id}/ring-mig")
    assert response.status_code == 302
    db.session.expire_all()
    assert enrolment.relative.consent(ConsentPurpose.CONTACT)
    (alert,) = db.session.scalars(select(Alert).where(Alert.enrolment_id == enrolment.id))
    assert alert.source == "followup"
    assert offer not in client.get("/min-guide/").get_data(as_text=True)


def test_the_queue_marks_an_overdue_case_in_words(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant()
    case_for(tenant)
    log_in_staff(client, tenant.staff)
    page = client.get("/personal/uppfoljning/").get_data(as_text=True)
    # The real clock is long past 12 March 2026, the call's target.
    assert 'class="overdue"' in page and "Försenat" in page
    body = client.get("/api/v1/alerts", headers=staff_token(tenant.staff)).get_json()
    assert body["alerts"][0]["source"] == "followup"
    assert body["alerts"][0]["overdue"] is True


def test_no_answer_keeps_the_case_open_with_the_note(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant()
    _, alert = case_for(tenant)
    log_in_staff(client, tenant.staff)
    client.post(f"/personal/uppfoljning/{alert.id}/inget-svar", data={"note": "Ringde 10.15"})
    page = client.get(f"/personal/uppfoljning/{alert.id}").get_data(as_text=True)
    assert "Inget svar: Ringde 10.15" in page
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).status == "open"  # type: ignore[union-attr]
