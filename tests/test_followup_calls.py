"""Follow-up calls from the guide: one case, exactly once, only with consent; else an offer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from guide.extensions import db
from guide.models import Alert, ConsentPurpose, Enrolment, Event, FollowupCall
from guide.services.contact import ContactRequest, request_contact
from guide.services.followup import is_overdue, mark_contacted, mark_no_answer, queue_query
from guide.services.followup_calls import accept_call_offer, decline_call_offer
from guide.services.library import current_library
from scheduler.jobs import release_due
from tests.conftest import TESTS, at
from tests.factories import ALL_CONSENTS, enrol, issue_cards, make_tenant
from tests.rules_on_objects import call_offer

FOLLOWUP_CONTENT = TESTS / "fixtures" / "content" / "followups"
ACTIVATED = at("2026-03-02 10:00")  # a Monday
CALL_DUE = at("2026-03-05 09:00")  # 3d later, at staff's 09:00
NO_CONTACT = {**ALL_CONSENTS, ConsentPurpose.CONTACT: False}


@pytest.fixture
def content_dir() -> Path:
    return FOLLOWUP_CONTENT


def relative(email: str = "anhorig@example.se", tenant=None, **details) -> Enrolment:  # type: ignore[no-untyped-def]
    tenant = tenant or make_tenant()
    card = issue_cards(tenant.unit, now=ACTIVATED)[0]
    return enrol(card, email, now=ACTIVATED, **details)


def run_pass(now) -> None:  # type: ignore[no-untyped-def]
    release_due(db.session, current_library(), now)
    db.session.expire_all()


def alerts_of(enrolment: Enrolment) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.enrolment_id == enrolment.id)))


def test_a_due_call_becomes_one_case_in_the_issuing_units_queue(app: Flask) -> None:
    enrolment = relative()
    assert enrolment.next_due_at is not None and enrolment.next_due_at <= CALL_DUE
    run_pass(CALL_DUE - timedelta(minutes=1))
    assert alerts_of(enrolment) == []
    run_pass(CALL_DUE)
    (alert,) = alerts_of(enrolment)
    assert alert.source == "followup"
    assert alert.unit_id == enrolment.unit_id
    assert alert.reason == "Uppföljningssamtal efter några dagar"
    assert alert.due_at == CALL_DUE
    assert alert.target_at == at("2026-03-12 17:00")  # within: 7d, to the end of that day
    call = db.session.scalars(select(FollowupCall)).one()
    assert (call.followup_id, call.outcome, call.alert_id) == (
        "ring-efter-nagra-dagar",
        "case",
        alert.id,
    )


def test_passes_again_and_later_never_make_a_second_case(app: Flask) -> None:
    enrolment = relative()
    for hours in (0, 0, 1, 48, 24 * 30):
        run_pass(CALL_DUE + timedelta(hours=hours))
    assert len(alerts_of(enrolment)) == 1
    assert db.session.scalar(select(func.count()).select_from(FollowupCall)) == 1


def test_catching_up_makes_one_case_for_every_missed_call(app: Flask) -> None:
    enrolment = relative(profile={"relation": "partner"})
    # No pass ran from activation until after both calls (3d and 8d) fell due.
    run_pass(at("2026-03-11 10:00"))
    (alert,) = alerts_of(enrolment)
    assert alert.reason == (
        "Uppföljningssamtal efter några dagar; Samtal med partnern efter en vecka"
    )
    assert alert.target_at == at("2026-03-12 17:00")  # the nearer of the two targets
    calls = db.session.scalars(select(FollowupCall).order_by(FollowupCall.followup_id)).all()
    assert {c.alert_id for c in calls} == {alert.id}


def test_an_open_case_absorbs_the_call(app: Flask) -> None:
    enrolment = relative()
    request_contact(
        db.session,
        enrolment.relative,
        enrolment,
        ContactRequest(phone="070-123 45 67"),
        at("2026-03-04 12:00"),
    )
    db.session.commit()
    run_pass(CALL_DUE)
    (alert,) = alerts_of(enrolment)
    assert alert.source == "contact_request"
    assert "Uppföljningssamtal efter några dagar" in alert.reason.split("; ")
    call = db.session.scalars(select(FollowupCall)).one()
    assert call.alert_id == alert.id


def test_a_relative_without_contact_consent_gets_an_offer_instead(app: Flask) -> None:
    enrolment = relative(consents=NO_CONTACT)
    run_pass(CALL_DUE)
    assert alerts_of(enrolment) == []
    offer = call_offer(enrolment)
    assert offer is not None and offer.outcome == "offered"
    # One click: the consent and the call.
    alert = accept_call_offer(db.session, enrolment.relative, enrolment, at("2026-03-05 18:00"))
    db.session.commit()
    assert enrolment.relative.consent(ConsentPurpose.CONTACT)
    assert alert.source == "followup" and alert.status == "open"
    assert call_offer(enrolment) is None
    run_pass(at("2026-03-20 10:00"))
    assert len(alerts_of(enrolment)) == 1


def test_no_thanks_takes_the_offer_away_without_a_case(app: Flask) -> None:
    enrolment = relative(consents=NO_CONTACT)
    run_pass(CALL_DUE)
    decline_call_offer(db.session, enrolment.relative, enrolment, at("2026-03-05 18:00"))
    db.session.commit()
    assert call_offer(enrolment) is None
    assert alerts_of(enrolment) == []
    assert not enrolment.relative.consent(ConsentPurpose.CONTACT)


def test_a_call_from_a_phase_waits_for_that_phase(app: Flask) -> None:
    enrolment = relative(email="fas@example.se")
    run_pass(at("2026-03-16 10:00"))  # start lasts 14d: sedan begins on 16 March 09:00
    db.session.refresh(enrolment)
    assert enrolment.current_phase == "sedan"
    ids = {c.followup_id for c in enrolment.followup_calls}
    assert "ring-i-nya-fasen" not in ids
    assert enrolment.next_due_at is not None
    assert enrolment.next_due_at <= at("2026-03-18 09:00")
    run_pass(at("2026-03-18 09:00"))
    db.session.refresh(enrolment)
    assert "ring-i-nya-fasen" in {c.followup_id for c in enrolment.followup_calls}


def test_a_call_whose_target_passed_long_ago_is_recorded_as_missed(app: Flask) -> None:
    enrolment = relative()
    run_pass(at("2026-06-01 10:00"))
    outcomes = {c.followup_id: c.outcome for c in db.session.scalars(select(FollowupCall))}
    assert outcomes["ring-efter-nagra-dagar"] == "missed"
    kinds = set(db.session.scalars(select(Event.kind).where(Event.enrolment_id == enrolment.id)))
    assert "followup_missed" in kinds


def test_the_queue_sorts_urgent_first_then_by_the_nearest_target(app: Flask) -> None:
    tenant = make_tenant()
    call_case = relative("a@example.se", tenant)
    run_pass(CALL_DUE)
    request = relative("b@example.se", tenant)
    request_contact(
        db.session, request.relative, request, ContactRequest(phone="0701234567"), CALL_DUE
    )
    db.session.commit()
    queue = db.session.scalars(queue_query(tenant.staff)).all()
    # Both have 7 days; the call's target (from its working morning) comes first.
    assert [a.enrolment_id for a in queue] == [call_case.id, request.id]
    assert queue[1].target_at == at("2026-03-12 17:00")


def test_overdue_means_no_first_contact_by_the_target(app: Flask) -> None:
    tenant = make_tenant()
    enrolment = relative(tenant=tenant)
    run_pass(CALL_DUE)
    (alert,) = alerts_of(enrolment)
    assert not is_overdue(alert, at("2026-03-12 16:59"))
    assert is_overdue(alert, at("2026-03-12 17:01"))
    mark_no_answer(db.session, tenant.staff, alert, "Inget svar", at("2026-03-12 17:05"))
    assert alert.status == "open" and alert.first_contact_at is None
    assert is_overdue(alert, at("2026-03-12 17:06"))
    mark_contacted(db.session, tenant.staff, alert, "", at("2026-03-13 10:00"))
    assert not is_overdue(alert, at("2026-03-13 10:01"))
    assert alert.first_contact_at == at("2026-03-13 10:00")


def test_targets_for_requests_and_urgent_alerts_come_from_the_environment(make_app) -> None:  # type: ignore[no-untyped-def]
    from guide.services.followup import raise_alert

    app = make_app(GUIDE_CONTACT_TARGET="2d", GUIDE_URGENT_TARGET="4h")
    with app.app_context():
        enrolment = relative()
        came_in = at("2026-03-03 10:00")
        normal = raise_alert(
            db.session, enrolment, priority="normal", source="rule", reason="x", now=came_in
        )
        assert normal.target_at == at("2026-03-05 17:00")
        urgent = raise_alert(
            db.session, enrolment, priority="urgent", source="crisis", reason="y", now=came_in
        )
        assert urgent.id == normal.id  # joined, and the nearer target wins
        assert urgent.target_at == came_in + timedelta(hours=4)


def test_a_wrong_target_in_the_environment_stops_the_start(make_app) -> None:  # type: ignore[no-untyped-def]
    from guide.config import ConfigError

    with pytest.raises(ConfigError, match="GUIDE_URGENT_TARGET"):
        make_app(GUIDE_URGENT_TARGET="samma dag")
