"""E-mail: put messages in the outbox, render them from template pairs, and send them.

Every message goes through the outbox, so a mail server that fails never loses one:
`queue_message` writes a row with an idempotency key (a second row for the same thing
is impossible), `deliver_due` claims rows and sends them over one SMTP connection, and
`send_now` does the same at once for messages a person is waiting for (login links,
the welcome e-mail).
"""

from __future__ import annotations

import smtplib
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_mail import Message
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from guide.extensions import mail
from guide.models import CapturedMail, OutboxMessage, Relative
from guide.models.base import utcnow

# Kinds that concern the relative's own request: sent even when notices are paused.
REQUESTED_KINDS = frozenset({"welcome", "login"})
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


class PermanentFailure(Exception):
    """The mail server refused the message for good (5xx): do not try again."""


class TemporaryFailure(Exception):
    """The mail server could not take the message now (4xx, refused, timeout): retry later."""


def queue_message(
    session: Session,
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
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        idempotency_key=key,
        kind=kind,
        relative_id=relative.id,
        enrolment_id=enrolment.id if enrolment is not None else None,
        recipient=relative.email,
        payload=payload or {},
        next_attempt_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


# -- unsubscribe --------------------------------------------------------------------


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(relative: Relative) -> str:
    return _unsubscribe_serializer().dumps(relative.id)


def relative_for_unsubscribe(token: str) -> int | None:
    try:
        value = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


# -- rendering ----------------------------------------------------------------------


def render_outbox_message(session: Session, message: OutboxMessage, now: datetime) -> RenderedMail:
    """Render a message from its templates `email/<kind>.txt` and `email/<kind>.html`."""
    from guide.mail_content import context_for

    relative = session.get(Relative, message.relative_id) if message.relative_id else None
    language = relative.language if relative else "sv"
    with force_locale(language):
        context = context_for(session, message, relative, now)
        subject = context.pop("subject")
        text = render_template(f"email/{message.kind}.txt", **context)
        html = render_template(f"email/{message.kind}.html", **context)
    headers = {"Message-ID": make_msgid(idstring=message.idempotency_key.replace(":", "."))}
    if relative is not None:
        link = _external("public.unsubscribe", token=unsubscribe_token(relative))
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return RenderedMail(subject, text, html, headers)


def _external(endpoint: str, **values: Any) -> str:
    base = current_app.config["GUIDE_BASE_URL"]
    return base + url_for(endpoint, _external=False, **values)


# -- sending ------------------------------------------------------------------------


def classify_failure(error: BaseException) -> Exception:
    """Return a TemporaryFailure or PermanentFailure for an error from smtplib or the network."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            return PermanentFailure(str(error))
        return TemporaryFailure(str(error))
    if isinstance(error, smtplib.SMTPResponseException):
        text = f"{error.smtp_code} {error.smtp_error!r}"
        if 500 <= error.smtp_code < 600:
            return PermanentFailure(text)
        return TemporaryFailure(text)
    if isinstance(error, (smtplib.SMTPException, OSError, socket.timeout, TimeoutError)):
        return TemporaryFailure(f"{type(error).__name__}: {error}")
    return TemporaryFailure(f"{type(error).__name__}: {error}")


def retry_delay(attempts: int) -> timedelta:
    """Wait longer after each failure: 1, 2, 4 … minutes, at most six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def claim_due(session: Session, now: datetime, limit: int, worker: str) -> list[OutboxMessage]:
    """Claim pending messages that are due, and messages whose claim went stale.

    On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED so several processes share
    the work without waiting on or repeating each other.
    """
    stale = now - CLAIM_TIMEOUT
    query = (
        select(OutboxMessage)
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
    messages = list(session.scalars(query))
    for message in messages:
        message.status = "sending"
        message.claimed_at = now
        message.claimed_by = worker
    session.commit()
    return messages


def deliver_due(
    session: Session, now: datetime, limit: int = 200, worker: str | None = None
) -> int:
    """Claim and send due messages over one connection; return how many were sent."""
    worker = worker or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    messages = claim_due(session, now, limit, worker)
    if not messages:
        return 0
    return _send_claimed(session, messages, now, worker)


def send_now(session: Session, message: OutboxMessage, now: datetime | None = None) -> bool:
    """Send one message at once; when it fails, the delivery pass retries it later."""
    now = now or utcnow()
    worker = f"now:{uuid.uuid4().hex[:8]}"
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == "pending")
        .values(status="sending", claimed_at=now, claimed_by=worker)
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(message)
    return _send_claimed(session, [message], now, worker) == 1


def _send_claimed(
    session: Session, messages: list[OutboxMessage], now: datetime, worker: str
) -> int:
    sent = 0
    rendered = []
    for message in messages:
        try:
            rendered.append((message, render_outbox_message(session, message, now)))
        except Exception as error:  # a template bug must not block the rest of the batch
            _mark_failed(session, message, now, f"rendering failed: {error}", permanent=False)
    session.commit()
    if not rendered:
        return 0
    if current_app.config["GUIDE_CAPTURE_MAIL"]:
        for message, mail_content in rendered:
            session.add(
                CapturedMail(
                    recipient=message.recipient,
                    subject=mail_content.subject,
                    text_body=mail_content.text,
                    html_body=mail_content.html,
                    headers=mail_content.headers,
                    created_at=now,
                )
            )
            _mark_sent(message, now, worker)
            sent += 1
        session.commit()
        return sent
    try:
        with mail.connect() as connection:
            for message, mail_content in rendered:
                try:
                    connection.send(_flask_mail_message(message, mail_content))
                except Exception as error:  # classified below: retry or stop
                    failure = classify_failure(error)
                    _mark_failed(
                        session, message, now, str(failure), isinstance(failure, PermanentFailure)
                    )
                    session.commit()
                    if isinstance(error, (smtplib.SMTPServerDisconnected, OSError)):
                        raise
                    continue
                _mark_sent(message, now, worker)
                session.commit()
                sent += 1
    except Exception as error:  # the connection itself failed: everything unsent retries
        failure = classify_failure(error)
        for message, _ in rendered:
            if message.status == "sending" and message.claimed_by == worker:
                _mark_failed(session, message, now, str(failure), permanent=False)
        session.commit()
    return sent


def _flask_mail_message(message: OutboxMessage, content: RenderedMail) -> Message:
    return Message(
        subject=content.subject,
        recipients=[message.recipient],
        body=content.text,
        html=content.html,
        extra_headers=content.headers,
    )


def _mark_sent(message: OutboxMessage, now: datetime, worker: str) -> None:
    message.status = "sent"
    message.sent_at = now
    message.attempts += 1
    message.last_error = None


def _mark_failed(
    session: Session, message: OutboxMessage, now: datetime, error: str, permanent: bool
) -> None:
    message.attempts += 1
    message.last_error = error[:2000]
    message.claimed_at = None
    if permanent or message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        relative = session.get(Relative, message.relative_id) if message.relative_id else None
        if relative is not None and relative.email_paused_at is None:
            relative.email_paused_at = now
            relative.email_pause_reason = f"Permanent e-post-fel: {error[:250]}"
        return
    message.status = "pending"
    message.next_attempt_at = now + retry_delay(message.attempts)
