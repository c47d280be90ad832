"""Small builders for tests: an organisation with units and staff, cards, and enrolled relatives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from guide.extensions import db
from guide.mail.background import drain
from guide.models import (
    CapturedMail,
    Card,
    ConsentPurpose,
    Enrolment,
    Organisation,
    Relative,
    StaffRole,
    StaffUser,
    Unit,
)
from guide.models.base import utcnow
from guide.services.accounts import create_organisation, create_staff, create_unit, issue_api_token
from guide.services.cards import BatchRequest, issue_batch, local_today
from guide.services.enrolment import Redemption, attach_pending, redeem_card
from guide.services.library import current_library

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
    db.session.commit()
    return enrolment


def enrol_in_account(card: Card, email: str = "anhorig@example.se", **details: object) -> Enrolment:
    """Enrol, and if the address had an account, attach the enrolment as its owner would.

    A card used with a known address makes a pending account; the owner attaches it
    by the link mailed to the address. Tests of one account with several guides
    start from here.
    """
    enrolment = enrol(card, email, **details)  # type: ignore[arg-type]
    pending = enrolment.relative
    if pending.email is None:
        account = db.session.scalar(select(Relative).where(Relative.email == pending.claimed_email))
        assert account is not None
        attach_pending(db.session, pending, account, utcnow())
        db.session.commit()
    return enrolment


def sent_mail(recipient: str | None = None) -> list[CapturedMail]:
    """Wait until the background sender has sent what it was given; return the mail captured."""
    drain()
    query = select(CapturedMail).order_by(CapturedMail.id)
    if recipient is not None:
        query = query.where(CapturedMail.recipient == recipient)
    db.session.expire_all()
    return list(db.session.scalars(query))


def staff_token(staff: StaffUser) -> dict[str, str]:
    token = issue_api_token(db.session, utcnow(), staff=staff)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
