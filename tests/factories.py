"""Small builders for tests: an organisation with units and staff, cards, and enrolled relatives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from guide.accounts import create_organisation, create_staff, create_unit, issue_api_token
from guide.cards import BatchRequest, issue_batch, local_today
from guide.content.library import current_library
from guide.enrolment import Redemption, redeem_card
from guide.extensions import db
from guide.models import Card, ConsentPurpose, Enrolment, Organisation, StaffRole, StaffUser, Unit
from guide.models.base import utcnow

PASSWORD = "ett-langt-losenord"
ALL_CONSENTS = {purpose: True for purpose in ConsentPurpose}


@dataclass
class Tenant:
    organisation: Organisation
    unit: Unit
    other_unit: Unit
    staff: StaffUser
    admin: StaffUser


def make_tenant(slug: str = "kommunen") -> Tenant:
    organisation = create_organisation(db.session, slug, f"Kommunen {slug}")
    unit = create_unit(db.session, organisation, "anhorigstod", "Anhörigstöd", "Ring enheten")
    other = create_unit(db.session, organisation, "psykiatri", "Psykiatrin")
    staff = create_staff(
        db.session, f"personal@{slug}.se", StaffRole.STAFF, organisation, unit, PASSWORD
    )
    admin = create_staff(
        db.session, f"admin@{slug}.se", StaffRole.ORG_ADMIN, organisation, None, PASSWORD
    )
    db.session.commit()
    return Tenant(organisation, unit, other, staff, admin)


def issue_cards(
    unit: Unit,
    count: int = 1,
    guide: str = "stod",
    phase: str | None = None,
    expires: date | None = None,
    now: datetime | None = None,
) -> list[Card]:
    library = current_library()
    batch = issue_batch(
        db.session, BatchRequest(unit, library.guide(guide), count, phase, expires), now or utcnow()
    )
    db.session.commit()
    return list(db.session.scalars(select(Card).where(Card.batch_id == batch.id).order_by(Card.id)))


def enrol(
    card: Card,
    email: str = "anhorig@example.se",
    now: datetime | None = None,
    profile: dict[str, object] | None = None,
    consents: dict[ConsentPurpose, bool] | None = None,
) -> Enrolment:
    when = now or utcnow()
    enrolment, _ = redeem_card(
        db.session,
        current_library(),
        Redemption(card.code, email, consents or ALL_CONSENTS, profile=profile or {}),
        when,
        local_today(when),
    )
    return enrolment


def staff_token(staff: StaffUser) -> dict[str, str]:
    token = issue_api_token(db.session, utcnow(), staff=staff)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
