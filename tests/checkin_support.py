"""Builders shared by the check-in, needs, contact and follow-up tests.

They run on tests/fixtures/content/checkins: the guide `kontroll` has every question
type and every rule action. A test module opts in by overriding the `content_dir`
fixture to return KONTROLL_CONTENT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import (
    CheckinInstance,
    ConsentPurpose,
    Enrolment,
    Event,
    Relative,
    StaffUser,
)
from guide.models.base import utcnow
from guide.services.accounts import issue_api_token
from guide.services.journey import advance_enrolment
from guide.services.journey import open_checkin as open_occurrence
from guide.services.library import current_library
from tests.conftest import TESTS, at
from tests.factories import ALL_CONSENTS, Tenant, enrol_in_account, issue_cards, make_tenant

KONTROLL_CONTENT = TESTS / "fixtures" / "content" / "checkins"
ACTIVATED = at("2026-03-02 10:00")  # a Monday
FIRST_CHECKIN = at("2026-03-05 09:00")  # hur-gar-det: 3d after activation, at 09:00
NEXT_CHECKIN = at("2026-03-19 09:00")  # and every 14d after that
NO_CONTACT = {**ALL_CONSENTS, ConsentPurpose.CONTACT: False}


@dataclass
class Enrolled:
    tenant: Tenant
    enrolment: Enrolment

    @property
    def relative(self) -> Relative:
        return self.enrolment.relative


def enrolled(
    tenant: Tenant | None = None,
    email: str = "anhorig@example.se",
    consents: dict[ConsentPurpose, bool] | None = None,
    unit: object = None,
    now: datetime = ACTIVATED,
) -> Enrolled:
    """Enrol a relative in `kontroll` with a card from the tenant's unit (or `unit`).

    A second card with the same address joins the same account (as after the owner
    used the mailed link).
    """
    tenant = tenant or make_tenant()
    card = issue_cards(unit or tenant.unit, guide="kontroll", now=now)[0]  # type: ignore[arg-type]
    return Enrolled(tenant, enrol_in_account(card, email=email, now=now, consents=consents))


def advance(enrolment: Enrolment, now: datetime) -> None:
    guide = current_library().guide(enrolment.guide_id)
    advance_enrolment(db.session, guide, enrolment, now)
    db.session.commit()


def open_checkin(
    enrolment: Enrolment, now: datetime = FIRST_CHECKIN, checkin_id: str = "hur-gar-det"
) -> CheckinInstance:
    """Advance the enrolment to `now` and return the check-in that opened then."""
    advance(enrolment, now)
    instance = db.session.scalar(
        select(CheckinInstance).where(
            CheckinInstance.enrolment_id == enrolment.id,
            CheckinInstance.checkin_id == checkin_id,
            CheckinInstance.answered_at.is_(None),
            CheckinInstance.expired_at.is_(None),
        )
    )
    assert instance is not None, f"{checkin_id} did not open at {now}"
    return instance


def event_kinds(enrolment: Enrolment, after_id: int = 0) -> list[str]:
    return list(
        db.session.scalars(
            select(Event.kind)
            .where(Event.enrolment_id == enrolment.id, Event.id > after_id)
            .order_by(Event.id)
        )
    )


def last_event_id(enrolment: Enrolment) -> int:
    ids = db.session.scalars(select(Event.id).where(Event.enrolment_id == enrolment.id))
    return max(ids, default=0)


def log_in_relative(client: FlaskClient, relative: Relative) -> None:
    """Log in as a relative who has proved the address (as with a login link)."""
    with client.session_transaction() as session:
        session["relative_id"] = relative.id
        session["relative_version"] = relative.session_version
        session["address_proved"] = True


def log_in_staff(client: FlaskClient, staff: StaffUser) -> None:
    with client.session_transaction() as session:
        session["staff_id"] = staff.id
        session["staff_version"] = staff.session_version
        session["staff_seen"] = utcnow().timestamp()


def relative_token(relative: Relative) -> dict[str, str]:
    token = issue_api_token(db.session, utcnow(), relative_id=relative.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def enrolled_now(**details: object) -> Enrolled:
    """Enrol at the real present, for tests that go through views (they read the clock)."""
    return enrolled(now=utcnow(), **details)  # type: ignore[arg-type]


def checkin_opened_now(enrolment: Enrolment, checkin_id: str = "hur-gar-det") -> CheckinInstance:
    """Open a check-in at once, as the scheduler would when it falls due."""
    now = utcnow()
    instance = open_occurrence(db.session, enrolment, checkin_id, now, now)
    db.session.commit()
    return instance


def answer_url(instance: CheckinInstance) -> str:
    return f"/min-guide/{instance.enrolment_id}/fragor/{instance.id}"
