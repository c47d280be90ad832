"""Issuing, listing, revoking and printing activation cards for a unit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from sqlalchemy import Select, false, insert, select

from activation_codes.cards_pdf import PrintableCard
from activation_codes.codes import generate_code, prefix_for
from guide.content.model import Guide, Library
from guide.errors import N_, GuideError
from guide.models import Card, CardBatch, CardStatus, StaffRole, StaffUser, Unit
from guide.models.base import DbSession

MAX_BATCH = 10_000
INSERT_CHUNK = 1_000


class CardError(GuideError):
    """A batch that cannot be issued as asked, or a card that cannot be revoked."""

    @classmethod
    def count_invalid(cls, most: int) -> CardError:
        return cls(
            "batch_invalid",
            N_("Ange ett antal kort mellan 1 och %(most)s.", most=most),
            field="count",
        )

    @classmethod
    def phase_unknown(cls, guide_id: str, phase: str) -> CardError:
        return cls(
            "batch_invalid",
            N_("Guiden %(guide)s har ingen fas '%(phase)s'.", guide=guide_id, phase=phase),
            field="phase",
        )

    @classmethod
    def expiry_past(cls) -> CardError:
        return cls(
            "batch_invalid",
            N_("Sista giltighetsdag kan inte ligga bakåt i tiden."),
            field="expires",
        )

    @classmethod
    def used(cls, code: str) -> CardError:
        return cls(
            "card_used", N_("Kortet %(code)s är redan använt och kan inte spärras.", code=code), 409
        )


def guide_prefixes(library: Library) -> dict[str, str]:
    """Return code prefix -> guide id for every guide in the library."""
    return {prefix_for(guide.id): guide.id for guide in library.guides.values()}


def local_today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(current_app.config["GUIDE_TIMEZONE"])).date()


@dataclass(frozen=True)
class BatchRequest:
    unit: Unit
    guide: Guide
    count: int
    phase: str | None = None
    expires_on: date | None = None


def issue_batch(
    session: DbSession,
    request: BatchRequest,
    now: datetime,
    issued_by: StaffUser | None = None,
    progress: Callable[[int], None] | None = None,
) -> CardBatch:
    """Create a batch of new cards with fresh codes; the caller commits."""
    if not 1 <= request.count <= MAX_BATCH:
        raise CardError.count_invalid(MAX_BATCH)
    if request.phase is not None and not request.guide.has_phase(request.phase):
        raise CardError.phase_unknown(request.guide.id, request.phase)
    if request.expires_on is not None and request.expires_on < local_today(now):
        raise CardError.expiry_past()
    batch = CardBatch(
        organisation_id=request.unit.organisation_id,
        unit_id=request.unit.id,
        guide_id=request.guide.id,
        start_phase=request.phase,
        expires_on=request.expires_on,
        count=request.count,
        created_at=now,
        created_by_id=issued_by.id if issued_by else None,
    )
    session.add(batch)
    session.flush()
    prefix = prefix_for(request.guide.id)
    codes: set[str] = set()
    while len(codes) < request.count:
        codes.add(generate_code(prefix))
    rows = [
        {
            "code": code,
            "batch_id": batch.id,
            "organisation_id": batch.organisation_id,
            "unit_id": batch.unit_id,
            "guide_id": batch.guide_id,
            "start_phase": batch.start_phase,
            "expires_on": batch.expires_on,
            "status": CardStatus.NEW.value,
            "created_at": now,
        }
        for code in sorted(codes)
    ]
    done = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        session.execute(insert(Card), chunk)
        done += len(chunk)
        if progress:
            progress(done)
    return batch


@dataclass(frozen=True)
class CardFilter:
    """Which of an organisation's cards a list shows; None (or empty) leaves a filter off.

    `status` narrows only with `today`: whether a new card has expired depends on the day.
    """

    status: CardStatus | None = None
    unit_id: int | None = None
    guide_id: str | None = None
    batch_id: int | None = None
    today: date | None = None


def cards_query(organisation_id: int, wanted: CardFilter) -> Select[Card]:
    """Return a query for an organisation's cards, newest first, filtered as `wanted`."""
    query = select(Card).where(Card.organisation_id == organisation_id)
    status, today = wanted.status, wanted.today
    if wanted.unit_id is not None:
        query = query.where(Card.unit_id == wanted.unit_id)
    if wanted.guide_id:
        query = query.where(Card.guide_id == wanted.guide_id)
    if wanted.batch_id is not None:
        query = query.where(Card.batch_id == wanted.batch_id)
    if status is not None and today is not None:
        not_expired = (Card.expires_on.is_(None)) | (Card.expires_on >= today)
        if status is CardStatus.EXPIRED:
            query = query.where(Card.status == CardStatus.NEW, Card.expires_on < today)
        elif status is CardStatus.NEW:
            query = query.where(Card.status == CardStatus.NEW, not_expired)
        else:
            query = query.where(Card.status == status)
    return query.order_by(Card.id.desc())


@dataclass(frozen=True)
class CardScope:
    """The cards a staff member may see and revoke: a unit's, or a whole organisation's."""

    organisation_id: int
    unit_id: int | None  # None: every unit of the organisation

    def holds(self, organisation_id: int, unit_id: int) -> bool:
        return organisation_id == self.organisation_id and self.unit_id in (None, unit_id)


def card_scope(staff: StaffUser) -> CardScope | None:
    """Return the cards `staff` may work with, or None: roles are enforced, not implied.

    Unit staff see and revoke their own unit's cards; organisation admins (and system
    admins placed in an organisation) all of it; editors none, whatever their --org.
    """
    if staff.organisation_id is None:
        return None
    if staff.role == StaffRole.STAFF:
        return CardScope(staff.organisation_id, staff.unit_id) if staff.unit_id else None
    if staff.has_role(StaffRole.ORG_ADMIN):
        return CardScope(staff.organisation_id, None)
    return None


def scoped_cards_query(scope: CardScope, wanted: CardFilter) -> Select[Card]:
    """Return `cards_query` narrowed to the scope; asking for another unit gives nothing."""
    if scope.unit_id is not None:
        if wanted.unit_id is not None and wanted.unit_id != scope.unit_id:
            return cards_query(scope.organisation_id, CardFilter(today=wanted.today)).where(false())
        wanted = replace(wanted, unit_id=scope.unit_id)
    return cards_query(scope.organisation_id, wanted)


def revoke_card(session: DbSession, card: Card, now: datetime) -> None:
    """Revoke a card that has not been used; a used card stays with its relative."""
    if card.status == CardStatus.ACTIVATED:
        raise CardError.used(card.code)
    if card.status == CardStatus.REVOKED:
        return
    card.status = CardStatus.REVOKED
    card.revoked_at = now


def activation_url(code: str) -> str:
    """Return the address a card's QR code opens: the activation page with the code filled in."""
    return url_for("public.activate", kod=code, _external=True)


# A web download draws at most this many cards (about ten seconds); larger batches come in parts.
PDF_PART_SIZE = 1_000


def pdf_parts(batch: CardBatch) -> list[tuple[int, int, int]]:
    """Return (part number, first card, last card) for each downloadable part of a batch."""
    return [
        (number, start + 1, min(start + PDF_PART_SIZE, batch.count))
        for number, start in enumerate(range(0, batch.count, PDF_PART_SIZE), start=1)
    ]


def printable_cards(
    session: DbSession,
    library: Library,
    batch: CardBatch,
    offset: int = 0,
    limit: int | None = None,
    language: str = "sv",
) -> Iterator[PrintableCard]:
    """Yield what each card of a batch shows, for the PDF (optionally one slice of it)."""
    guide = library.guide(batch.guide_id)
    unit = batch.unit
    codes = session.scalars(
        select(Card.code)
        .where(Card.batch_id == batch.id)
        .order_by(Card.id)
        .offset(offset)
        .limit(limit)
    )
    for code in codes:
        yield PrintableCard(
            code=code,
            activation_url=activation_url(code),
            guide_title=guide.title.get(language),
            unit_name=unit.name,
            unit_contact=unit.contact,
            expires=batch.expires_on,
        )
