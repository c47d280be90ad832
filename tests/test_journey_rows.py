"""Min guide and GET /api/v1/me/journey read rows, not mapped objects: they say what the rules say.

`reading.journey_summaries` reads the contact person, the consent to be contacted,
the call offer, the open check-ins and a pending contact request straight from the
database's rows. Here one relative walks through every state those can be in, and at
each step the API's answer is compared with the same rules applied to the mapped
objects (`tests/rules_on_objects.py`, `Relative.consent`, the open check-ins).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import Alert, CheckinInstance, Consent, ConsentPurpose, Enrolment, Relative
from guide.models.base import utcnow
from guide.services.accounts import deactivate_staff
from guide.services.contact import ContactRequest, request_contact
from guide.services.contact_person import save_profile
from guide.services.followup import raise_alert
from guide.services.library import current_library
from scheduler.jobs import release_due
from tests.checkin_support import log_in_relative, relative_token
from tests.conftest import FIXTURE_CONTENT
from tests.factories import ALL_CONSENTS, enrol, issue_cards, make_tenant, staff_token
from tests.rules_on_objects import call_offer, shown_contact
from tests.test_followup_calls import ACTIVATED, CALL_DUE, FOLLOWUP_CONTENT
from tests.test_page_statements import lived_journeys

NO_CONTACT = {**ALL_CONSENTS, ConsentPurpose.CONTACT: False}


@pytest.fixture
def content_dir() -> Path:
    return FOLLOWUP_CONTENT


def by_the_rules(enrolment: Enrolment) -> dict[str, Any]:
    """What the rules say of the mapped objects, freshly loaded."""
    open_checkins = db.session.scalars(
        select(CheckinInstance)
        .where(CheckinInstance.enrolment_id == enrolment.id, CheckinInstance.is_open)
        .order_by(CheckinInstance.opened_at.desc(), CheckinInstance.id.desc())
    )
    return {
        "enrolment": enrolment.id,
        "contact_person": shown_contact(enrolment).as_json(),
        "call_offered": call_offer(enrolment) is not None,
        "open_checkins": [c.id for c in open_checkins],
    }


def agree(client: FlaskClient, relative: Relative) -> list[dict[str, Any]]:
    """Return the API's enrolments, once checked against the rules, newest first."""
    journey = client.get("/api/v1/me/journey", headers=relative_token(relative))
    assert journey.status_code == 200
    listed: list[dict[str, Any]] = journey.get_json()["enrolments"]
    db.session.expire_all()
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.relative_id == relative.id)
        .order_by(Enrolment.activated_at.desc(), Enrolment.id.desc())
    )
    assert [
        {key: e[key] for key in ("enrolment", "contact_person", "call_offered")}
        | {"open_checkins": [c["id"] for c in e["open_checkins"]]}
        for e in listed
    ] == [by_the_rules(e) for e in enrolments]
    return listed


def give_contact_consent(enrolment: Enrolment, granted: bool, minutes: int) -> None:
    enrolment.relative.consents.append(
        Consent(
            purpose=ConsentPurpose.CONTACT,
            version="1",
            granted=granted,
            recorded_at=ACTIVATED + timedelta(minutes=minutes),
        )
    )
    db.session.commit()


def test_every_contact_state_reads_as_the_rules_say(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant()
    enrolment = enrol(
        issue_cards(tenant.unit, now=ACTIVATED)[0], now=ACTIVATED, consents=NO_CONTACT
    )
    release_due(db.session, current_library(), CALL_DUE)  # offers the call: no consent
    db.session.commit()

    (listed,) = agree(client, enrolment.relative)
    assert listed["call_offered"] is True
    assert listed["contact_person"]["name"] == "Anhörigstöd"

    give_contact_consent(enrolment, True, minutes=1)
    assert agree(client, enrolment.relative)[0]["call_offered"] is False

    # Named, without a display name yet: the unit still shows.
    alert = raise_alert(
        db.session, enrolment, priority="normal", source="rule", reason="x", now=utcnow()
    )
    db.session.commit()
    client.post(f"/api/v1/alerts/{alert.id}/take", headers=staff_token(tenant.staff))
    assert agree(client, enrolment.relative)[0]["contact_person"]["name"] == "Anhörigstöd"

    save_profile(db.session, tenant.staff, "Karin", "Kurator", "Tisdagar 9–11")
    db.session.commit()
    assert agree(client, enrolment.relative)[0]["contact_person"]["name"] == "Karin"

    give_contact_consent(enrolment, False, minutes=2)  # the latest answer counts
    (listed,) = agree(client, enrolment.relative)
    assert listed["contact_person"]["name"] == "Anhörigstöd"
    assert listed["call_offered"] is True  # the offered call waits again

    give_contact_consent(enrolment, True, minutes=3)
    assert agree(client, enrolment.relative)[0]["contact_person"]["name"] == "Karin"

    deactivate_staff(db.session, tenant.staff, utcnow())
    db.session.commit()
    assert agree(client, enrolment.relative)[0]["contact_person"]["name"] == "Anhörigstöd"


@pytest.mark.parametrize("content_dir", [FIXTURE_CONTENT])  # two guides with check-ins
def test_two_journeys_their_open_checkins_and_a_pending_request_read_as_the_rows_hold(
    app: Flask, client: FlaskClient
) -> None:
    first, second = lived_journeys(days=40)
    relative = first.relative
    opened = utcnow() - timedelta(days=1)
    mine = {"the-middle": 5, "the-oldest": 2, "the-newest": 9}  # hours after `opened`
    for checkin_id, hours in mine.items():
        db.session.add(
            CheckinInstance(
                enrolment_id=first.id,
                checkin_id=checkin_id,
                due_at=opened,
                opened_at=opened + timedelta(hours=hours),
            )
        )
    db.session.commit()
    listed = agree(client, relative)
    assert [e["enrolment"] for e in listed] == [second.id, first.id]  # newest first
    listed_mine = [c["checkin"] for c in listed[1]["open_checkins"] if c["checkin"] in mine]
    assert listed_mine == ["the-newest", "the-middle", "the-oldest"]
    closed = db.session.scalars(
        select(CheckinInstance).where(
            CheckinInstance.enrolment_id.in_([first.id, second.id]), ~CheckinInstance.is_open
        )
    ).all()
    assert closed  # answered or expired ones are left out

    log_in_relative(client, relative)
    assert "Du bad om kontakt" not in client.get("/min-guide/").get_data(as_text=True)
    request_contact(db.session, relative, first, ContactRequest(phone="070-123 45 67"), utcnow())
    db.session.commit()
    assert "Du bad om kontakt" in client.get("/min-guide/").get_data(as_text=True)
    (asked,) = db.session.scalars(select(Alert).where(Alert.enrolment_id == first.id))
    asked.status = "closed"  # staff answered it
    db.session.commit()
    assert "Du bad om kontakt" not in client.get("/min-guide/").get_data(as_text=True)
