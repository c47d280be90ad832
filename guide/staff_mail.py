"""Mail to staff through the same outbox as the relatives' mail.

Staff are not relatives: they have no language choice, no unsubscribe link and no
pause, so their messages are queued here rather than with `mailer.queue_message`.
Delivery, retries and capture are the outbox's as for every other message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide.models import OutboxMessage


def queue_staff_message(
    session: Session,
    kind: str,
    recipient_email: str,
    key: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxMessage:
    """Add a message for a staff member to the outbox, unless one with the same key exists."""
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        idempotency_key=key,
        kind=kind,
        relative_id=None,
        enrolment_id=None,
        recipient=recipient_email,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message
