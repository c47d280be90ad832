"""The outbox: every message is a row with an idempotency key, queued once and claimed for sending."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from guide.models import OutboxMessage, Relative
from guide.models.base import DbSession, utcnow

# Kinds that concern the relative's own request: sent even when notices are paused.
REQUESTED_KINDS = frozenset({"welcome", "login", "card_used"})
# Kinds whose row forgets its address (and error text) once sent or given up: the
# confirmation of an erasure is the last thing that knows the address.
FORGET_RECIPIENT_KINDS = frozenset({"erased"})
# A claim older than this belongs to a process that died: another may take the message.
CLAIM_TIMEOUT = timedelta(minutes=10)
# A message set aside because rendering it failed: a fault in the code, not the server.
UNRENDERABLE = "unrenderable"


def queue_message(
    session: DbSession,
    kind: str,
    relative: Relative,
    key: str,
    payload: dict[str, Any] | None = None,
    enrolment: Any = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox unless one with the same key exists or mail is paused."""
    if relative.email is None or relative.deleted_at is not None:
        return None
    if kind not in REQUESTED_KINDS and relative.email_paused_at is not None:
        return None
    return _queue_once(
        session,
        OutboxMessage(
            idempotency_key=key,
            kind=kind,
            relative_id=relative.id,
            enrolment_id=enrolment.id if enrolment is not None else None,
            recipient=relative.email,
            payload=payload or {},
            next_attempt_at=now or utcnow(),
            created_at=now or utcnow(),
        ),
    )


def queue_staff_message(
    session: DbSession,
    kind: str,
    recipient_email: str,
    key: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxMessage:
    """Add a message for a staff member to the outbox, unless one with the same key exists.

    Staff are not relatives: no language choice, no unsubscribe link and no pause.
    """
    return _queue_once(
        session,
        OutboxMessage(
            idempotency_key=key,
            kind=kind,
            relative_id=None,
            enrolment_id=None,
            recipient=recipient_email,
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        ),
    )


def _queue_once(session: DbSession, message: OutboxMessage) -> OutboxMessage:
    """Add `message` unless one with its idempotency key exists: a second one is impossible."""
    existing = session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == message.idempotency_key)
    )
    if existing is not None:
        return existing
    session.add(message)
    session.flush()
    return message


def claim_due(session: DbSession, now: datetime, limit: int, worker: str) -> list[OutboxMessage]:
    """Claim pending messages that are due, and messages whose claim went stale.

    On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED so several processes share
    the work without waiting on or repeating each other. The claim is committed at
    once: a process that dies after claiming leaves a claim that goes stale after
    CLAIM_TIMEOUT, and then another pass takes the message over.
    """
    stale = now - CLAIM_TIMEOUT
    query = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < stale),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status="sending", claimed_at=now, claimed_by=worker)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    if not ids:
        return []
    # Read after the commit: rows the session held before are read afresh.
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )
