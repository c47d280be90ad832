"""Mail that did not get through, as admins see it: failed, retrying and unrenderable messages, addresses masked."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Select, or_, select

from guide.mail.outbox import UNRENDERABLE
from guide.models import Enrolment, OutboxMessage, Relative, StaffUser
from guide.models.base import DbSession

EMAIL_ADDRESS = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def undelivered_messages(organisation_id: int | None) -> Select[OutboxMessage, Relative]:
    """Return a query for messages that failed or wait for a retry, newest first.

    With an organisation, only its messages: those about its enrolments, those (like
    login links) to relatives who hold one of its enrolments, and those to its staff.
    """
    query = (
        select(OutboxMessage, Relative)
        .outerjoin(Relative, Relative.id == OutboxMessage.relative_id)
        .where(
            or_(
                OutboxMessage.status.in_(("failed", UNRENDERABLE)),
                (OutboxMessage.status != "sent") & (OutboxMessage.attempts > 0),
            )
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    if organisation_id is not None:
        own_enrolments = select(Enrolment.id).where(Enrolment.organisation_id == organisation_id)
        own_relatives = select(Enrolment.relative_id).where(
            Enrolment.organisation_id == organisation_id
        )
        own_staff = select(StaffUser.email).where(StaffUser.organisation_id == organisation_id)
        query = query.where(
            or_(
                OutboxMessage.enrolment_id.in_(own_enrolments),
                OutboxMessage.enrolment_id.is_(None) & OutboxMessage.relative_id.in_(own_relatives),
                OutboxMessage.relative_id.is_(None) & OutboxMessage.recipient.in_(own_staff),
            )
        )
    return query


def masked_address(text: str) -> str:
    """Hide the personal part of every e-mail address in `text`: anna@ex.se -> a•••@ex.se."""
    return EMAIL_ADDRESS.sub(r"\1•••@\2", text)


def retry_message(session: DbSession, message: OutboxMessage, now: datetime) -> None:
    """Try a message that could not be rendered again at the next delivery pass (an admin asked)."""
    if message.status != UNRENDERABLE:
        raise ValueError(f"outbox message {message.id} is {message.status}, not unrenderable")
    message.status = "pending"
    message.next_attempt_at = now
    message.failed_release = None
