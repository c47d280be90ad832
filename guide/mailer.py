"""E-mail: put messages in the outbox, render them from template pairs, and send them.

Every message goes through the outbox, so a mail server that fails never loses one:
`queue_message` writes a row with an idempotency key (a second row for the same thing
is impossible), `deliver_due` claims rows and sends them over one SMTP connection, and
`send_now` does the same at once for messages a person is waiting for (login links,
the welcome e-mail).

A message that cannot be rendered is a fault in Lots, not in the mail server: it is
logged once with its traceback, set aside as `unrenderable`, and tried again only when
a new release of the code runs or an admin asks for it; the rest of its batch goes on.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_mail import Connection, Message
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from guide.models import CapturedMail, Enrolment, OutboxMessage, Relative, StaffUser
from guide.models.base import utcnow
from guide.release import code_release

log = logging.getLogger(__name__)

# Kinds that concern the relative's own request: sent even when notices are paused.
REQUESTED_KINDS = frozenset({"welcome", "login", "card_used"})
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
        created_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


# -- problems for admins -------------------------------------------------------------

EMAIL_ADDRESS = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def undelivered_messages(organisation_id: int | None) -> Select[tuple[OutboxMessage, Relative]]:
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
    headers = {"Message-ID": message_id(message)}
    if relative is not None:
        link = url_for("public.unsubscribe", token=unsubscribe_token(relative), _external=True)
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return RenderedMail(subject, text, html, headers)


# -- sending ------------------------------------------------------------------------


# A message set aside because rendering it failed: a fault in the code, not the server.
UNRENDERABLE = "unrenderable"


@dataclass(frozen=True)
class Delivery:
    """What one delivery batch did with the messages it claimed."""

    claimed: int
    sent: int
    retrying: int  # a temporary failure: back in the outbox for a later attempt
    failed: int  # stopped for good: a permanent refusal, or too many attempts
    unrenderable: int = 0  # could not be rendered: waits for a new release or an admin


def classify_failure(error: BaseException) -> Exception:
    """Return a TemporaryFailure or PermanentFailure for an error from smtplib or the network."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            return PermanentFailure(_refusal_text(error))
        return TemporaryFailure(_refusal_text(error))
    if isinstance(error, smtplib.SMTPResponseException):
        text = f"{error.smtp_code} {_decoded(error.smtp_error)}"
        if 500 <= error.smtp_code < 600:
            return PermanentFailure(text)
        return TemporaryFailure(text)
    # Connection refused, timeouts, a server that hangs up, anything unforeseen: the
    # message itself may be fine, so try again later rather than give up on it.
    return TemporaryFailure(f"{type(error).__name__}: {error}")


def _decoded(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refusal_text(error: smtplib.SMTPRecipientsRefused) -> str:
    return "; ".join(f"{code} {_decoded(text)}" for code, text in error.recipients.values())


def _connection_lost(error: BaseException) -> bool:
    """Return whether the SMTP connection is unusable after `error` (the rest must wait)."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421  # "closing transmission channel"
    # smtplib's own errors are OSErrors too; only the network's mean the line is gone.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def retry_delay(attempts: int) -> timedelta:
    """Wait longer after each failure: 1, 2, 4 … minutes, at most six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def claim_due(session: Session, now: datetime, limit: int, worker: str) -> list[OutboxMessage]:
    """Claim pending messages that are due, and messages whose claim went stale.

    On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED so several processes share
    the work without waiting on or repeating each other. The claim is committed at
    once: a process that dies after claiming leaves a claim that goes stale after
    CLAIM_TIMEOUT, and then another pass takes the message over.
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
        .execution_options(populate_existing=True)
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
) -> Delivery:
    """Claim up to `limit` due messages and send them over one SMTP connection."""
    worker = worker or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    messages = claim_due(session, now, limit, worker)
    if not messages:
        return Delivery(0, 0, 0, 0)
    return _send_claimed(session, messages, now)


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
    return _send_claimed(session, [message], now).sent == 1


def _send_claimed(session: Session, messages: list[OutboxMessage], now: datetime) -> Delivery:
    from guide.mail_content import prefetch

    outcomes: Counter[str] = Counter()
    # Read every claimed row, and what rendering them needs, in a few queries.
    session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in messages]))
    ).all()
    loaded = prefetch(session, messages)
    rendered = []
    for message in messages:
        try:
            # A savepoint: a failed render undoes only its own writes (its login token).
            with session.begin_nested():
                rendered.append((message.id, _flask_mail_message(session, message, now)))
        except Exception:  # a fault in Lots must not block the rest of the batch
            log.exception(
                "Could not render outbox message %s (%s); it waits for a new release of "
                "the code or an admin's retry",
                message.id,
                message.kind,
            )
            _set_aside_unrenderable(session, message.id, now)
            outcomes[UNRENDERABLE] += 1
    del loaded  # rendered: the prefetched rows may go
    session.commit()
    if rendered:
        if current_app.config["GUIDE_CAPTURE_MAIL"]:
            outcomes.update(_capture(session, rendered, now))
        else:
            outcomes.update(_send_over_smtp(session, rendered, now))
    return Delivery(
        claimed=len(messages),
        sent=outcomes["sent"],
        retrying=outcomes["pending"],
        failed=outcomes["failed"],
        unrenderable=outcomes[UNRENDERABLE],
    )


def _capture(session: Session, rendered: list[tuple[int, Message]], now: datetime) -> Counter[str]:
    """Keep the mails in the database instead of sending them (no MAIL_SERVER set)."""
    for _, mail_message in rendered:
        session.add(
            CapturedMail(
                recipient=mail_message.recipients[0],
                subject=mail_message.subject,
                text_body=mail_message.body,
                html_body=mail_message.html,
                headers={"Message-ID": mail_message.msgId, **(mail_message.extra_headers or {})},
                created_at=now,
            )
        )
    # In the session, so that the mails are kept exactly when they count as sent.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([message_id for message_id, _ in rendered]))
        .values(status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return Counter(sent=len(rendered))


def _send_over_smtp(
    session: Session, rendered: list[tuple[int, Message]], now: datetime
) -> Counter[str]:
    """Send the batch over one SMTP connection, marking each message as it goes.

    Each message is marked and committed right after the server took it, so a crash
    can at worst repeat the one message in flight, never lose one.
    """
    outcomes: Counter[str] = Counter()
    untried = list(reversed(rendered))
    try:
        with _smtp_connection() as connection:
            while untried:
                message_id, mail_message = untried.pop()
                try:
                    connection.send(mail_message)
                except Exception as error:
                    failure = classify_failure(error)
                    permanent = isinstance(failure, PermanentFailure)
                    outcomes[_mark_failed(session, message_id, now, str(failure), permanent)] += 1
                    session.commit()
                    if _connection_lost(error):
                        raise
                    continue
                _mark_sent(session, [message_id], now)
                outcomes["sent"] += 1
    except Exception as error:  # no connection, or it broke: the rest of the batch waits
        failure = classify_failure(error)
        for message_id, _ in untried:
            outcomes[_mark_failed(session, message_id, now, str(failure))] += 1
        session.commit()
        log.warning("SMTP delivery stopped (%s); the rest of the batch will be retried", failure)
    return outcomes


class _TimedConnection(Connection):
    """Flask-Mail's connection, but one that gives up on a server that stops answering.

    Flask-Mail opens smtplib.SMTP without a timeout, so a server that accepts the
    connection and then says nothing would hold the delivery pass (and, with one
    instance at a time, all delivery) forever.
    """

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        timeout = current_app.config["GUIDE_SMTP_TIMEOUT"]
        factory = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = factory(state.server, state.port, timeout=timeout)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


def _smtp_connection() -> Connection:
    return _TimedConnection(current_app.extensions["mail"])


def message_id(message: OutboxMessage) -> str:
    """Return the Message-ID of a message: the same at every attempt, from its idempotency key."""
    host = current_app.base_url().host  # type: ignore[attr-defined]
    local = re.sub(r"[^A-Za-z0-9_-]+", ".", message.idempotency_key).strip(".")
    return f"<{local}@{host}>"


def _flask_mail_message(session: Session, message: OutboxMessage, now: datetime) -> Message:
    """Render an outbox message into a Flask-Mail message with our headers."""
    content = render_outbox_message(session, message, now)
    headers = dict(content.headers)
    # Flask-Mail writes its own Message-ID header; give it ours instead of adding a second.
    message_id_header = headers.pop("Message-ID")
    mail_message = Message(
        subject=content.subject,
        recipients=[message.recipient],
        body=content.text,
        html=content.html,
        extra_headers=headers,
    )
    mail_message.msgId = message_id_header
    return mail_message


def _mark_sent(session: Session, message_ids: list[int], now: datetime) -> None:
    """Mark messages sent and commit that at once, on a connection of its own.

    Committing the session for each message would expire every object it holds; this
    is one UPDATE and one COMMIT, so marking each message as it goes stays cheap.
    """
    with session.get_bind().begin() as connection:
        connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids))
            .values(
                status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None
            )
        )


def _set_aside_unrenderable(session: Session, message_id: int, now: datetime) -> None:
    """Keep a message that could not be rendered until different code runs.

    Retrying it like a 451 would fail the same way at every pass, fill the log and
    hide the fault behind "retrying"; nor is it the address's fault, so nothing pauses.
    """
    message = session.get_one(OutboxMessage, message_id)
    message.status = UNRENDERABLE
    message.attempts += 1
    message.claimed_at = None
    message.failed_release = code_release()
    message.last_error = None  # the traceback is in the server log, not for the admin page


def retry_unrenderable_after_release(session: Session, now: datetime) -> int:
    """Put messages that could not be rendered by an earlier release back in the outbox."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == UNRENDERABLE,
            OutboxMessage.failed_release != code_release(),
        )
        .values(status="pending", next_attempt_at=now, failed_release=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry_message(session: Session, message: OutboxMessage, now: datetime) -> None:
    """Try a message that could not be rendered again at the next delivery pass (an admin asked)."""
    if message.status != UNRENDERABLE:
        raise ValueError(f"outbox message {message.id} is {message.status}, not unrenderable")
    message.status = "pending"
    message.next_attempt_at = now
    message.failed_release = None


def _mark_failed(
    session: Session, message_id: int, now: datetime, error: str, permanent: bool = False
) -> str:
    """Put a message back for a later attempt, or stop it for good; return its new status.

    A permanent refusal (5xx) means the address does not work: e-mail to that
    relative pauses until they give a working one. Running out of attempts says
    nothing about the address (the server may have been down), so it pauses nothing.
    """
    message = session.get_one(OutboxMessage, message_id)
    message.attempts += 1
    message.last_error = error[:2000]
    message.claimed_at = None
    if permanent or message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        relative = session.get(Relative, message.relative_id) if message.relative_id else None
        if permanent and relative is not None and relative.email_paused_at is None:
            relative.email_paused_at = now
            relative.email_pause_reason = f"Permanent e-post-fel: {error[:250]}"
        return message.status
    message.status = "pending"
    message.next_attempt_at = now + retry_delay(message.attempts)
    return message.status
