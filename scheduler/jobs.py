"""The release engine's passes over the database: release what is due, deliver the outbox.

Both passes are plain functions that take a session and `now`; APScheduler
(scheduler/runner.py) and `guide scheduler tick` only call them. The database is the
only state: a pass claims enrolments whose `next_due_at` has come, lets the planner
decide (guide/journey.py carries the plan out) and stores the next due moment. On
PostgreSQL several processes may run the same pass at once: the claim takes row locks
with FOR UPDATE SKIP LOCKED, so each enrolment is advanced by one process, and the
unique keys on releases and outbox messages make a second release or notice impossible
even if that ever failed.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import selectinload

from guide.content.model import Library
from guide.mail.delivery import Delivery, deliver_batches, retry_unrenderable_after_release
from guide.models import Enrolment
from guide.models.base import DbSession
from guide.services.followup_calls import raise_due_followups
from guide.services.followup_digest import queue_morning_digests
from guide.services.journey import Advance, advance_enrolment
from guide.services.release_batch import BatchResult, CompiledLibrary, advance_batch, claim_batch

log = logging.getLogger(__name__)

# Enrolments claimed together. On PostgreSQL a batch is read and written in about ten
# statements whatever its size; the per-enrolment path (SQLite, and any enrolment the
# set-based writer leaves to it) costs about six statements each.
RELEASE_BATCH = 1000
DELIVERY_BATCH = 200
# An enrolment that cannot be advanced (a content or data error) is tried again after
# this long instead of at every pass, so it neither floods the log nor crowds out others.
RETRY_AFTER_FAILURE = timedelta(minutes=15)


@dataclass
class ReleaseReport:
    """What one release pass did."""

    enrolments: int = 0  # enrolments advanced
    releases: int = 0  # modules released
    checkins: int = 0  # check-ins opened
    notices: int = 0  # e-mails put in the outbox
    digests: int = 0  # morning e-mails to staff about cases to work
    failed: list[int] = field(default_factory=list)  # enrolment ids that could not be advanced

    def count(self, advance: Advance) -> None:
        """Count one advanced enrolment."""
        self.enrolments += 1
        self.releases += len(advance.releases)
        self.checkins += len(advance.checkins)
        self.notices += advance.notice is not None

    def count_batch(self, batch: BatchResult) -> None:
        """Count what the set-based writer advanced in one batch."""
        self.enrolments += batch.enrolments
        self.releases += batch.releases
        self.checkins += batch.checkins
        self.notices += batch.notices

    def add(self, other: ReleaseReport) -> None:
        """Add the counts of another report (a batch) to these."""
        self.enrolments += other.enrolments
        self.releases += other.releases
        self.checkins += other.checkins
        self.notices += other.notices
        self.failed.extend(other.failed)


@dataclass
class DeliveryReport:
    """What one delivery pass did, over all its batches."""

    batches: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unrenderable: int = 0  # a fault in Lots: set aside until a new release or an admin's retry
    requeued: int = 0  # set aside by an earlier release, put back in the outbox by this one

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed + self.unrenderable

    def add(self, other: DeliveryReport | Delivery) -> None:
        """Add the counts of another pass, or of one batch, to these."""
        self.batches += other.batches if isinstance(other, DeliveryReport) else 1
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.unrenderable += other.unrenderable
        if isinstance(other, DeliveryReport):
            self.requeued += other.requeued


def worker_name() -> str:
    """Name this process in claims and logs: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def release_due(
    session: DbSession,
    library: Library,
    now: datetime,
    limit: int = 10_000,
    worker: str | None = None,
    batch_size: int = RELEASE_BATCH,
    set_based: bool | None = None,
) -> ReleaseReport:
    """Advance up to `limit` active enrolments whose next due moment has come by `now`.

    On PostgreSQL each batch is written set-based (guide/services/release_batch.py);
    on SQLite, or with `set_based=False`, each enrolment is advanced with the ORM, the
    reference path the set-based one is proved equal to.

    Each batch is claimed, advanced and committed together. If one enrolment in it
    fails, the batch is rolled back and its enrolments are advanced again one at a
    time, so the failing one is logged and tried again later without holding back
    the others.
    """
    worker = worker or worker_name()
    report = ReleaseReport()
    if set_based is None:
        set_based = session.get_bind().dialect.name == "postgresql"
    compiled = CompiledLibrary(library)
    while report.enrolments + len(report.failed) < limit:
        size = min(batch_size, limit - report.enrolments - len(report.failed))
        if set_based:
            claimed, done = _release_batch_set_based(session, library, compiled, now, size, worker)
        else:
            claimed, done = _release_batch_one_by_one(session, library, now, size, worker)
        report.add(done)
        if claimed < size:
            break
    # Staff's morning e-mail about due and overdue cases: once a working day each.
    report.digests = queue_morning_digests(session, now)
    session.commit()
    return report


def _release_batch_one_by_one(
    session: DbSession, library: Library, now: datetime, size: int, worker: str
) -> tuple[int, ReleaseReport]:
    """Claim a batch and advance each enrolment with the ORM (the reference path)."""
    batch = claim_due_enrolments(session, now, size)
    if not batch:
        return 0, ReleaseReport()
    ids = [enrolment.id for enrolment in batch]
    try:
        done = _advance_batch(session, library, batch, now)
        session.commit()  # ends the batch and lets go of its row locks
    except Exception:
        session.rollback()
        done = ReleaseReport()
        for enrolment_id in ids:
            _advance_alone(session, library, enrolment_id, now, worker, done)
    return len(ids), done


def _release_batch_set_based(
    session: DbSession,
    library: Library,
    compiled: CompiledLibrary,
    now: datetime,
    size: int,
    worker: str,
) -> tuple[int, ReleaseReport]:
    """Claim, plan and write a batch with a statement per table (PostgreSQL).

    Enrolments whose plans the set-based writer does not handle are advanced with the
    ORM in the same transaction; one whose planning fails is tried alone afterwards.
    If writing fails, the batch is rolled back and each enrolment goes alone, as on
    the reference path.
    """
    claimed = claim_batch(session, now, size, due_condition)
    if not claimed:
        return 0, ReleaseReport()
    ids = [item.row.id for item in claimed]
    done = ReleaseReport()
    try:
        result = advance_batch(session, compiled, claimed, now)
        done.count_batch(result)
        if result.fallback:
            rest = list(
                session.scalars(
                    _with_state(select(Enrolment))
                    .where(Enrolment.id.in_(result.fallback))
                    .order_by(Enrolment.next_due_at, Enrolment.id)
                )
            )
            done.add(_advance_batch(session, library, rest, now))
        session.commit()  # ends the batch and lets go of its row locks
    except Exception:
        session.rollback()
        compiled.forget_versions()
        log.warning(
            "%s: a release batch failed; advancing its enrolments one at a time",
            worker,
            exc_info=True,
        )
        done = ReleaseReport()
        for enrolment_id in ids:
            _advance_alone(session, library, enrolment_id, now, worker, done)
        return len(ids), done
    for enrolment_id in result.unplanned:
        _advance_alone(session, library, enrolment_id, now, worker, done)
    return len(ids), done


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Which enrolments a release pass claims at `now`: both paths use this one condition.

    A paused enrolment is not claimed at all; resuming makes it due (services.settings).
    """
    return (
        (Enrolment.status == "active")
        & Enrolment.paused_at.is_(None)
        & (Enrolment.next_due_at <= now)
    )


def _with_state(query: Any) -> Any:
    """Load what advance_enrolment reads, fresh from the database."""
    return query.options(
        selectinload(Enrolment.phase_visits),
        selectinload(Enrolment.releases),
        selectinload(Enrolment.relative),
        selectinload(Enrolment.followup_calls),
    ).execution_options(populate_existing=True)


def claim_due_enrolments(
    session: DbSession, now: datetime, size: int, only: int | None = None
) -> list[Enrolment]:
    """Lock and return the next `size` due enrolments that no other process holds."""
    # Rows another process changed since this session last saw them are read afresh.
    query = _with_state(
        select(Enrolment)
        .where(due_condition(now))
        .order_by(Enrolment.next_due_at, Enrolment.id)
        .limit(size)
    )
    if only is not None:
        query = query.where(Enrolment.id == only)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Enrolment)
    return list(session.scalars(query))


def _advance_batch(
    session: DbSession, library: Library, batch: list[Enrolment], now: datetime
) -> ReleaseReport:
    done = ReleaseReport()
    # advance_enrolment flushes when it needs ids; flushing before every query as well
    # would more than double the work of a pass, and nothing here reads unflushed rows.
    with session.no_autoflush:
        for enrolment in batch:
            guide = library.guide(enrolment.guide_id)
            # Calls first: the plan written next counts the following call's due moment.
            raise_due_followups(session, guide, enrolment, now)
            advance = advance_enrolment(session, guide, enrolment, now)
            done.count(advance)
    return done


def _advance_alone(
    session: DbSession,
    library: Library,
    enrolment_id: int,
    now: datetime,
    worker: str,
    report: ReleaseReport,
) -> None:
    """Advance one enrolment in a transaction of its own; on failure, try it again later."""
    try:
        claimed = claim_due_enrolments(session, now, 1, only=enrolment_id)
        if not claimed:
            return  # another process has it, or it is no longer due
        report.add(_advance_batch(session, library, claimed, now))
        session.commit()
    except Exception:
        session.rollback()
        log.exception(
            "%s could not advance enrolment %s at %s; trying again in %s",
            worker,
            enrolment_id,
            now.isoformat(),
            RETRY_AFTER_FAILURE,
        )
        report.failed.append(enrolment_id)
        session.execute(
            update(Enrolment)
            .where(Enrolment.id == enrolment_id)
            .values(next_due_at=now + RETRY_AFTER_FAILURE)
        )
        session.commit()


def deliver_outbox(
    session: DbSession,
    now: datetime,
    limit: int = 5_000,
    worker: str | None = None,
    batch_size: int = DELIVERY_BATCH,
) -> DeliveryReport:
    """Send the outbox's due messages in batches, one SMTP connection each, up to `limit`.

    Messages that an earlier release of the code could not render are put back first.
    """
    worker = worker or worker_name()
    report = DeliveryReport(requeued=retry_unrenderable_after_release(session, now))
    for delivery in deliver_batches(session, now, limit, batch_size, worker):
        report.add(delivery)
    return report
