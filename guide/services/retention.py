"""Retention (SPEC §9): unused accounts are warned, then erased; expired unused cards go.

A relative is unused when for `GUIDE_RETENTION_DAYS` (default 365) nothing of theirs
happened: no card redeemed, no login, no module read and no check-in answered. They
get one warning mail whose link logs them in (a login is use, so it keeps them);
`ERASE_AFTER_WARNING` later, still unused, they are erased as by their own request
(guide.services.privacy). A warning older than the retention period belonged to an
earlier quiet spell and counts for nothing.

The pass is idempotent and batched; each batch is one transaction. On PostgreSQL the
relatives of a batch are claimed with FOR UPDATE SKIP LOCKED, so several scheduler
processes share the work and never warn or erase one relative twice; the warning's
idempotency key and erasure's own check make a repeat harmless anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, true, update
from sqlalchemy.orm import aliased

from guide.mail.outbox import queue_message
from guide.models import (
    Card,
    CardStatus,
    CheckinInstance,
    Enrolment,
    Event,
    OutboxMessage,
    Relative,
    Release,
)
from guide.models.base import DbSession
from guide.services.privacy import erase_relative

DEFAULT_RETENTION_DAYS = 365
ERASE_AFTER_WARNING = timedelta(days=30)
# Expired cards stay visible to staff (as "expired") this long before they are purged.
CARD_GRACE = timedelta(days=30)
BATCH = 100


@dataclass
class RetentionReport:
    """What one retention pass did, in counts."""

    warned: int = 0
    erased: int = 0
    cards_purged: int = 0
    confirmations: list[OutboxMessage] = field(default_factory=list)


def _used_since(cutoff: datetime) -> ColumnElement[bool]:
    """Whether the relative did anything at or after `cutoff`."""
    theirs = Enrolment.relative_id == Relative.id
    return or_(
        # NULL >= cutoff is NULL, and NOT NULL is NULL too: say "not null" outright.
        and_(Relative.last_login_at.is_not(None), Relative.last_login_at >= cutoff),
        exists().where(theirs, Enrolment.activated_at >= cutoff),
        exists().where(theirs, Release.enrolment_id == Enrolment.id, Release.read_at >= cutoff),
        exists().where(
            theirs,
            CheckinInstance.enrolment_id == Enrolment.id,
            CheckinInstance.answered_at >= cutoff,
        ),
    )


def _warned_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    return exists().where(
        Enrolment.relative_id == Relative.id,
        Enrolment.retention_warned_at >= start,
        Enrolment.retention_warned_at <= end,
    )


def _claim(session: DbSession, condition: ColumnElement[bool], size: int) -> list[Relative]:
    query = (
        select(Relative)
        .where(Relative.deleted_at.is_(None), condition)
        .order_by(Relative.id)
        .limit(size)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Relative)
    return list(session.scalars(query))


def unused_relatives(cutoff: datetime) -> ColumnElement[bool]:
    """Relatives with an address and an enrolment, who did nothing since `cutoff`."""
    return and_(
        Relative.email.is_not(None),
        exists().where(Enrolment.relative_id == Relative.id, Enrolment.status == "active"),
        ~_used_since(cutoff),
    )


def run_retention(
    session: DbSession, now: datetime, days: int = DEFAULT_RETENTION_DAYS, batch: int = BATCH
) -> RetentionReport:
    """Warn the newly unused, erase the warned who stayed unused, purge expired cards."""
    report = RetentionReport()
    cutoff = now - timedelta(days=days)
    # Erase first: a relative warned long enough ago, and unused since before the cutoff.
    erasable = and_(unused_relatives(cutoff), _warned_between(cutoff, now - ERASE_AFTER_WARNING))
    while batch_ := _claim(session, erasable, batch):
        for relative in batch_:
            erasure = erase_relative(session, relative, now, reason="retention")
            report.erased += erasure.relatives
            if erasure.confirmation is not None:
                report.confirmations.append(erasure.confirmation)
        session.commit()
    warnable = and_(unused_relatives(cutoff), ~_warned_between(cutoff, now))
    while batch_ := _claim(session, warnable, batch):
        for relative in batch_:
            report.warned += _warn(session, relative, cutoff, now)
        session.commit()
    report.cards_purged = purge_expired_cards(session, now)
    session.commit()
    return report


def _warn(session: DbSession, relative: Relative, cutoff: datetime, now: datetime) -> int:
    """Warn a claimed relative unless another process just did; return 1 if this one did.

    The claim's lock is on the relative, the warning is written on their enrolments:
    a process whose claim read the enrolments before another's warning committed
    still gets the row once the lock is free. So the warning is written only where
    no enrolment carries one yet, in a statement that sees what committed meanwhile.
    """
    already = aliased(Enrolment)
    warned = session.execute(
        update(Enrolment)
        .where(
            Enrolment.relative_id == relative.id,
            ~exists().where(
                already.relative_id == relative.id,
                already.retention_warned_at >= cutoff,
                already.retention_warned_at <= now,
            ),
        )
        .values(retention_warned_at=now)
        .execution_options(synchronize_session=False)
    )
    if not warned.rowcount:  # type: ignore[attr-defined]
        return 0
    erase_on = (now + ERASE_AFTER_WARNING).date().isoformat()
    queue_message(
        session,
        kind="retention_warning",
        relative=relative,
        key=f"retention:{relative.id}:{now.date().isoformat()}",
        payload={"erase_on": erase_on},
        now=now,
    )
    return 1


def purge_expired_cards(session: DbSession, now: datetime) -> int:
    """Delete cards never redeemed whose expiry date passed more than CARD_GRACE ago."""
    last_day = (now - CARD_GRACE).date()
    result = session.execute(
        delete(Card).where(
            Card.status.in_((CardStatus.NEW, CardStatus.REVOKED)),
            Card.expires_on.is_not(None),
            Card.expires_on < last_day,
            ~exists().where(Enrolment.card_id == Card.id),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RetentionCounts:
    """What the admin's mail/problem page shows about retention."""

    warned: int  # enrolments warned and not yet erased
    erased: int  # enrolments erased by retention
    expired_cards: int  # unredeemed cards past expiry, to be purged after CARD_GRACE


def retention_counts(
    session: DbSession, organisation_id: int | None, today: date
) -> RetentionCounts:
    """Count the organisation's (None: every) warned and erased enrolments and expired cards."""
    mine = true() if organisation_id is None else Enrolment.organisation_id == organisation_id
    warned = session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(mine, Enrolment.status == "active", Enrolment.retention_warned_at.is_not(None))
    )
    erased = session.scalar(
        select(func.count())
        .select_from(Event)
        .join(Enrolment, Enrolment.id == Event.enrolment_id)
        .where(mine, Event.kind == "erased", Event.data["reason"].as_string() == "retention")
    )
    cards = session.scalar(
        select(func.count())
        .select_from(Card)
        .where(
            true() if organisation_id is None else Card.organisation_id == organisation_id,
            Card.status == CardStatus.NEW,
            Card.expires_on < today,
        )
    )
    return RetentionCounts(int(warned or 0), int(erased or 0), int(cards or 0))
