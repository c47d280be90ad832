"""What grows without end at scale, pruned by age: events, and outbox messages already sent.

Both are deleted in chunks (`CHUNK` rows a transaction), oldest first, so a prune
never holds many row locks at once and the release and delivery passes keep running
beside it. Nothing is pruned unless asked: the ages are the operator's choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select

from guide.models import Event, OutboxMessage
from guide.models.base import DbSession

CHUNK = 10_000
# A sent message's idempotency key stops it being queued twice: keep it well past any
# retry, or a late second attempt at the same thing could send it again.
MIN_SENT_AGE = timedelta(days=30)


@dataclass(frozen=True)
class PruneReport:
    events: int
    sent_messages: int


def prune(
    session: DbSession,
    now: datetime,
    events_older_than: timedelta | None = None,
    sent_older_than: timedelta | None = None,
) -> PruneReport:
    """Delete events older than one age and sent outbox messages older than another."""
    if sent_older_than is not None and sent_older_than < MIN_SENT_AGE:
        raise ValueError(
            f"Sent messages are kept at least {MIN_SENT_AGE.days} days: their keys stop "
            "a second copy of the same e-mail."
        )
    events = 0
    if events_older_than is not None:
        cut = now - events_older_than
        events = _delete_in_chunks(
            session, select(Event.id).where(Event.at < cut).order_by(Event.id), Event
        )
    sent = 0
    if sent_older_than is not None:
        cut = now - sent_older_than
        query = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "sent", OutboxMessage.sent_at < cut)
            .order_by(OutboxMessage.id)
        )
        sent = _delete_in_chunks(session, query, OutboxMessage)
    return PruneReport(events, sent)


def _delete_in_chunks(
    session: DbSession, ids: Select[int], model: type[Event] | type[OutboxMessage]
) -> int:
    deleted = 0
    while True:
        chunk = list(session.scalars(ids.limit(CHUNK)))
        if not chunk:
            return deleted
        session.execute(delete(model).where(model.id.in_(chunk)))
        session.commit()
        deleted += len(chunk)
