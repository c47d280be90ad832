"""Redeeming an activation card: from a typed code to an enrolled relative with a first module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from activation_codes.codes import CodeError, parse
from guide.content.model import Guide, Library
from guide.errors import GuideError
from guide.mail.outbox import queue_message
from guide.models import (
    Card,
    CardStatus,
    Consent,
    ConsentPurpose,
    Enrolment,
    OutboxMessage,
    PhaseVisitRow,
    Relative,
)
from guide.models.base import DbSession
from guide.services.accounts import AccountError, normalise_email
from guide.services.answers import AnswerError, clean_answers
from guide.services.cards import guide_prefixes
from guide.services.journey import advance_enrolment, record_event

# The wording a relative agreed to; a new wording gets a new version.
CONSENT_VERSION = "2026-11"
CONSENT_TEXTS = {
    ConsentPurpose.SERVICE: "Jag vill få guidens avsnitt och frågor, och att tjänsten sparar "
    "min e-postadress och mina svar för det.",
    ConsentPurpose.CONTACT: "Personal från enheten som gav mig kortet får kontakta mig om jag "
    "ber om det eller om mina svar tyder på att jag behöver stöd.",
    ConsentPurpose.STATISTICS: "Mina svar får räknas in i anonym statistik som hjälper "
    "kommunen att förbättra stödet till anhöriga.",
}


class RedemptionError(GuideError):
    """A card that cannot be redeemed, with a kind sentence and a stable API code."""

    def __init__(self, code: str, message: str, status: int = 400, field: str = "code"):
        super().__init__(code, message, status, field)

    @classmethod
    def from_code_error(cls, error: CodeError) -> RedemptionError:
        codes = {"malformed": "code_malformed", "mistyped": "code_mistyped"}
        return cls(codes.get(error.kind, "code_unknown"), error.message)

    @classmethod
    def unknown(cls, code: str) -> RedemptionError:
        return cls(
            "code_unknown",
            f"Vi hittar ingen kod {code}. Kontrollera koden på kortet, "
            "eller fråga den som gav dig kortet.",
            status=404,
        )

    @classmethod
    def used(cls, code: str) -> RedemptionError:
        return cls(
            "code_used",
            f"Koden {code} har redan använts. Har du redan aktiverat den kan du logga in "
            "med din e-post. Annars kan du be den som gav dig kortet om ett nytt.",
            status=409,
        )

    @classmethod
    def revoked(cls, code: str) -> RedemptionError:
        return cls(
            "code_revoked",
            f"Koden {code} gäller inte längre. Be den som gav dig kortet om ett nytt.",
            status=410,
        )

    @classmethod
    def expired(cls, code: str) -> RedemptionError:
        return cls(
            "code_expired",
            f"Koden {code} har slutat gälla. Be den som gav dig kortet om ett nytt.",
            status=410,
        )


@dataclass(frozen=True)
class Redemption:
    """What a relative gives when redeeming a card."""

    code: str
    email: str
    consents: dict[ConsentPurpose, bool]
    language: str = "sv"
    profile: dict[str, Any] = field(default_factory=dict)
    timezone: str = "Europe/Stockholm"


def find_redeemable_card(session: DbSession, library: Library, raw_code: str, today: Any) -> Card:
    """Return the card for a typed code, or raise the RedemptionError that explains why not.

    The check symbol catches typing errors before any database lookup.
    """
    try:
        parsed = parse(raw_code, guide_prefixes(library))
    except CodeError as error:
        raise RedemptionError.from_code_error(error) from None
    card = session.scalar(select(Card).where(Card.code == parsed.code))
    if card is None:
        raise RedemptionError.unknown(parsed.code)
    status = card.status_on(today)
    if status is CardStatus.ACTIVATED:
        raise RedemptionError.used(card.code)
    if status is CardStatus.REVOKED:
        raise RedemptionError.revoked(card.code)
    if status is CardStatus.EXPIRED:
        raise RedemptionError.expired(card.code)
    return card


def redeem_card(
    session: DbSession, library: Library, request: Redemption, now: datetime, today: Any
) -> tuple[Enrolment, OutboxMessage | None]:
    """Enrol a relative with a card, release the opening module and queue the first e-mail.

    The card is claimed with a conditional update, so of two requests racing for the
    same card exactly one succeeds; the other gets `used`. A new address gets an
    account and the welcome e-mail; an address that has an account gets a pending
    account for this enrolment, and the address gets "a card was used with your
    address" with the link that attaches it. Both paths do the same work, so
    neither the answer nor its time tells whether the address was known.
    Commits on success.
    """
    card = find_redeemable_card(session, library, request.code, today)
    guide = library.guide(card.guide_id)
    if not request.consents.get(ConsentPurpose.SERVICE):
        raise RedemptionError(
            "consent_required",
            "För att få guiden behöver du godkänna att tjänsten sparar din e-postadress "
            "och dina svar.",
            field="consent_service",
        )
    try:
        email = normalise_email(request.email)
    except AccountError:
        raise RedemptionError(
            "email_invalid", "Skriv en e-postadress som ser ut som namn@exempel.se.", field="email"
        ) from None
    try:
        profile = clean_answers(guide.profile, request.profile, today=today)
    except AnswerError as error:
        raise RedemptionError(
            "profile_invalid", error.message, field=f"profile-{error.field}"
        ) from None

    claimed = session.execute(
        update(Card)
        .where(Card.id == card.id, Card.status == CardStatus.NEW)
        .values(status=CardStatus.ACTIVATED, activated_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise RedemptionError.used(card.code)
    try:
        relative, account = _relative_for(session, email, request.language, now)
        enrolment = _enrol(session, guide, card, relative, profile, request, now)
        for purpose, granted in request.consents.items():
            session.add(
                Consent(
                    relative=relative,
                    purpose=purpose,
                    version=CONSENT_VERSION,
                    granted=bool(granted),
                    recorded_at=now,
                )
            )
        advance_enrolment(session, guide, enrolment, now, notify=False)
        if account is None:
            message = queue_message(
                session,
                kind="welcome",
                relative=relative,
                key=f"welcome:{enrolment.id}",
                enrolment=enrolment,
                payload={"enrolment_id": enrolment.id},
                now=now,
            )
        else:
            message = queue_message(
                session,
                kind="card_used",
                relative=account,
                key=f"card-used:{enrolment.id}",
                enrolment=enrolment,
                payload={"enrolment_id": enrolment.id, "pending_relative_id": relative.id},
                now=now,
            )
        enrolment.notified_phase = enrolment.current_phase
        session.flush()  # a second enrolment of the card fails here, not in the caller's commit
    except IntegrityError:
        session.rollback()
        raise RedemptionError.used(card.code) from None
    return enrolment, message


def _relative_for(
    session: DbSession, email: str, language: str, now: datetime
) -> tuple[Relative, Relative | None]:
    """Return the relative the new enrolment belongs to, and the account of `email` if any.

    An address without an account gets one. An address with an account gets a
    pending account beside it: whoever holds the card must not reach that account
    until a link mailed to the address proves it is theirs.
    """
    account = session.scalar(select(Relative).where(Relative.email == email))
    try:
        # The same statements on both paths, so their time does not tell them apart.
        with session.begin_nested():
            relative = _new_relative(email, account is not None, language, now)
            session.add(relative)
            session.flush()
    except IntegrityError:
        # Two first redemptions with one new address at once: the second is pending.
        account = session.scalar(select(Relative).where(Relative.email == email))
        if account is None:
            raise
        relative = _new_relative(email, True, language, now)
        session.add(relative)
        session.flush()
    return relative, account


def _new_relative(email: str, pending: bool, language: str, now: datetime) -> Relative:
    if pending:
        return Relative(email=None, claimed_email=email, language=language, created_at=now)
    return Relative(email=email, language=language, created_at=now)


def attach_pending(session: DbSession, pending: Relative, account: Relative, now: datetime) -> None:
    """Move a pending account's enrolments into the account whose address was just proved.

    The consents given with the card count where they are newer than the account's
    own answer for that purpose. The pending account is erased.
    """
    if pending.deleted_at is not None or pending.id == account.id:
        return
    for purpose in ConsentPurpose:
        given = _latest_consent(pending, purpose)
        own = _latest_consent(account, purpose)
        if given is not None and (own is None or given.recorded_at > own.recorded_at):
            account.consents.append(
                Consent(
                    purpose=purpose,
                    version=given.version,
                    granted=given.granted,
                    recorded_at=given.recorded_at,
                )
            )
    enrolments = session.scalars(select(Enrolment).where(Enrolment.relative_id == pending.id))
    for enrolment in enrolments:
        enrolment.relative = account
        record_event(session, enrolment, "attached", now)
    pending.claimed_email = None
    pending.deleted_at = now
    session.flush()


def _latest_consent(relative: Relative, purpose: ConsentPurpose) -> Consent | None:
    answers = [c for c in relative.consents if c.purpose == purpose]
    return answers[-1] if answers else None


def _enrol(
    session: DbSession,
    guide: Guide,
    card: Card,
    relative: Relative,
    profile: dict[str, Any],
    request: Redemption,
    now: datetime,
) -> Enrolment:
    phase = card.start_phase if card.start_phase and guide.has_phase(card.start_phase) else None
    enrolment = Enrolment(
        relative=relative,
        card_id=card.id,
        guide_id=guide.id,
        organisation_id=card.organisation_id,
        unit_id=card.unit_id,
        activated_at=now,
        timezone=request.timezone,
        profile=profile,
        answers={},
        muted=[],
        checkins_opened={},
    )
    session.add(enrolment)
    session.flush()
    start = phase or guide.first_phase.id
    enrolment.phase_visits.append(PhaseVisitRow(phase=start, started_at=now, reason="start"))
    record_event(session, enrolment, "enrolled", now, phase=start, card=card.code)
    return enrolment
