"""Deliver the outbox: claim, render, send or capture, mark; retries with back-off.

A batch is claimed, rendered (the login tokens of its mails inserted together),
composed into bytes (guide.mail.mime) and sent over one SMTP connection
(guide.mail.sending); what the server took is marked sent in groups of SENT_GROUP, so
a crash resends at most one group, each mail with the same Message-ID, and never
loses one. A delivery pass (`deliver_batches`) claims and renders the next batch
while the last one is on its way, from a process of its own once a pass has more
than one batch: a mail spends most of its time waiting for the server's replies. A mail that
cannot be rendered is set aside as unrenderable until a new release runs.
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Engine, Update, insert, select, update

from guide.mail.content import deferring_login_tokens, prefetch
from guide.mail.mime import Composer
from guide.mail.outbox import FORGET_RECIPIENT_KINDS, UNRENDERABLE, claim_due
from guide.mail.render import RenderedMail, render_outbox_message
from guide.mail.sending import (
    Sending,
    Wire,
    send_batch,
    send_batch_in_process,
    start_sending_process,
)
from guide.mail.smtp import PermanentFailure, SmtpSettings, TemporaryFailure, classify_failure
from guide.models import CapturedMail, LoginToken, OutboxMessage, Relative
from guide.models.base import DbSession, utcnow
from guide.version import code_release

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 12


FIRST_RETRY = timedelta(minutes=1)


LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True)
class Outgoing:
    """A rendered mail of the batch: as it reads, and as SMTP sends it (no bytes if captured)."""

    mail: RenderedMail
    wire: Wire  # its row, its envelope, its bytes, and whether the row forgets the address


@dataclass(frozen=True)
class Delivery:
    """What one delivery batch did with the messages it claimed."""

    claimed: int
    sent: int
    retrying: int  # a temporary failure: back in the outbox for a later attempt
    failed: int  # stopped for good: a permanent refusal, or too many attempts
    unrenderable: int = 0  # could not be rendered: waits for a new release or an admin


def retry_delay(attempts: int) -> timedelta:
    """Wait longer after each failure: 1, 2, 4 … minutes, at most six hours."""
    delay: timedelta = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)
    return delay


def deliver_due(
    session: DbSession, now: datetime, limit: int = 200, worker: str | None = None
) -> Delivery:
    """Claim up to `limit` due messages and send them over one SMTP connection."""
    worker = worker or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    messages = claim_due(session, now, limit, worker)
    if not messages:
        return Delivery(0, 0, 0, 0)
    return _send_claimed(session, messages, now)


def deliver_batches(
    session: DbSession, now: datetime, limit: int, batch_size: int, worker: str
) -> Iterator[Delivery]:
    """Deliver up to `limit` due messages, `batch_size` a batch; yield what each batch did.

    While one batch is on its way to the mail server (guide.mail.sending, on a
    connection of its own), the next is claimed and rendered here: most of a mail's
    time is spent waiting for the server's replies. The batches go out one after
    another over one connection each, as `deliver_due` sends them; a failure is
    recorded here once its batch is over.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    capture = app.config["GUIDE_CAPTURE_MAIL"]
    smtp = None if capture else SmtpSettings.of(app)
    claimed = 0
    with _Senders(_engine(session)) as senders:
        on_its_way: _OnItsWay | None = None
        while claimed < limit:
            size = min(batch_size, limit - claimed)
            messages = claim_due(session, now, size, worker)
            claimed += len(messages)
            if messages and smtp is not None and senders.submitted:
                senders.start_process()  # the next batch goes from there; it starts meanwhile
            outgoing, outcomes = (
                _render_claimed(session, messages, now) if messages else ([], Counter())
            )
            if on_its_way is not None:
                yield _delivered(session, on_its_way, now)
                on_its_way = None
            if not messages:
                break
            if smtp is None or not outgoing:
                outcomes.update(_capture(session, outgoing, now) if outgoing else Counter())
                yield _delivery(len(messages), outcomes)
            else:
                batch = [item.wire for item in outgoing]
                future = senders.submit(smtp, batch, now)
                on_its_way = _OnItsWay(
                    future, [w.message_id for w in batch], outcomes, len(messages)
                )
            if len(messages) < size:
                break
        if on_its_way is not None:
            yield _delivered(session, on_its_way, now)


class _Senders:
    """Where the batches of a pass go out: the first in a thread, the rest in a process.

    The next batch renders while the last one waits on the server, but a thread shares
    the GIL with that rendering: a reply is read only when rendering lets go, and the
    mails sent while a batch rendered took 17 ms each instead of 1.1 ms (2 ms with a
    turn given after each rendered mail). A process of its own sends at the server's
    pace. Starting one takes about 0.3 s, so it starts only once a pass has claimed
    a second batch, while the first goes out; if it stops, the thread takes over.
    A database only this process can open (SQLite in memory) keeps to the thread.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp")
        self.process: ProcessPoolExecutor | None = None
        self.process_usable = engine.url.database not in (None, "", ":memory:")
        self.submitted = 0

    def start_process(self) -> None:
        """Start the sending process, unless it runs already or cannot be used."""
        if self.process is None and self.process_usable:
            try:
                self.process = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=start_sending_process,
                    initargs=(self.engine.url.render_as_string(hide_password=False),),
                )
                self.process.submit(int)  # start it now, while the batch before goes out
            except (OSError, ImportError, NotImplementedError) as error:
                # No processes here (a container without /dev/shm, say): the thread sends.
                log.warning("Cannot start a sending process (%r); sending from a thread", error)
                self.process, self.process_usable = None, False

    def submit(self, smtp: SmtpSettings, batch: list[Wire], now: datetime) -> Future[Sending]:
        """Hand a batch to the sending process if there is one, else to the thread."""
        self.submitted += 1
        if self.process is not None and self.process_usable:
            try:
                return self.process.submit(send_batch_in_process, smtp, batch, now)
            except BrokenProcessPool:  # it died with the batch before: the thread goes on
                self.process_usable = False
        return self.thread.submit(send_batch, self.engine, smtp, batch, now)

    def __enter__(self) -> _Senders:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.thread.shutdown()
        if self.process is not None:
            self.process.shutdown()


@dataclass(frozen=True)
class _OnItsWay:
    """A batch handed to a sender, and what rendering it already counted."""

    future: Future[Sending]
    message_ids: list[int]
    outcomes: Counter[str]
    claimed: int


def _delivered(session: DbSession, batch: _OnItsWay, now: datetime) -> Delivery:
    """Wait for a batch on its way; record its failures; return what it did."""
    try:
        sending = batch.future.result()
    except Exception as error:  # the sending process died, or the database went away
        sending = _left_unsent(session, batch.message_ids, error)
    batch.outcomes.update(_record_failures(session, sending, now))
    return _delivery(batch.claimed, batch.outcomes)


def _left_unsent(session: DbSession, message_ids: list[int], error: Exception) -> Sending:
    """Say what a batch whose sender stopped did: the mails marked sent went, the rest wait.

    The server may have taken the last group before the sender could mark it; those
    go again later with the same Message-ID (at most SENT_GROUP), none is lost.
    """
    log.warning("Sending a batch stopped (%r); the rest of it will be retried", error)
    sent = set(
        session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.id.in_(message_ids), OutboxMessage.status == "sent"
            )
        )
    )
    return Sending(
        sent=len(sent),
        stopped=TemporaryFailure(f"sending stopped: {error!r}"),
        untried=[message_id for message_id in message_ids if message_id not in sent],
    )


def _delivery(claimed: int, outcomes: Counter[str]) -> Delivery:
    return Delivery(
        claimed=claimed,
        sent=outcomes["sent"],
        retrying=outcomes["pending"],
        failed=outcomes["failed"],
        unrenderable=outcomes[UNRENDERABLE],
    )


def _engine(session: DbSession) -> Engine:
    engine = session.get_bind()
    assert isinstance(engine, Engine), "the app binds its session to an engine"
    return engine


def send_now(session: DbSession, message: OutboxMessage, now: datetime | None = None) -> bool:
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


def _send_claimed(session: DbSession, messages: list[OutboxMessage], now: datetime) -> Delivery:
    outgoing, outcomes = _render_claimed(session, messages, now)
    if outgoing:
        if current_app.config["GUIDE_CAPTURE_MAIL"]:
            outcomes.update(_capture(session, outgoing, now))
        else:
            smtp = SmtpSettings.of(current_app)
            sending = send_batch(_engine(session), smtp, [item.wire for item in outgoing], now)
            outcomes.update(_record_failures(session, sending, now))
    return _delivery(len(messages), outcomes)


def _render_claimed(
    session: DbSession, messages: list[OutboxMessage], now: datetime
) -> tuple[list[Outgoing], Counter[str]]:
    """Render the claimed messages; commit the login tokens their links need.

    A message that cannot be rendered is set aside (and counted); the rest come back
    ready to send.
    """
    outcomes: Counter[str] = Counter()
    # Composed here, not in the thread that talks SMTP (that one sets the pace);
    # captured mail is kept as rendered and needs no bytes.
    composer = (
        None
        if current_app.config["GUIDE_CAPTURE_MAIL"]
        else Composer(current_app.config["MAIL_DEFAULT_SENDER"])
    )
    loaded = prefetch(session, messages)  # what rendering reads, a query per table
    outgoing: list[Outgoing] = []
    tokens: list[dict[str, Any]] = []
    for message in messages:
        try:
            with deferring_login_tokens() as own:
                mail = render_outbox_message(session, message, now)
        except Exception:  # a fault in Lots must not block the rest of the batch
            log.exception(
                "Could not render outbox message %s (%s); it waits for a new release of "
                "the code or an admin's retry",
                message.id,
                message.kind,
            )
            _set_aside_unrenderable(session, message, now)
            outcomes[UNRENDERABLE] += 1
            continue
        data = (
            composer.compose(message.recipient, mail.subject, mail.text, mail.html, mail.headers)
            if composer is not None
            else b""
        )
        envelope_from = composer.envelope_from if composer is not None else ""
        forget = message.kind in FORGET_RECIPIENT_KINDS
        outgoing.append(
            Outgoing(mail, Wire(message.id, envelope_from, message.recipient, data, forget))
        )
        tokens.extend(own)
        # Let a thread sending the last batch read its reply (a pass's first batch goes
        # from a thread, the rest from a process): a thread busy in Python holds the GIL
        # for up to 5 ms (sys.getswitchinterval()), and without this the sender stood
        # still while a batch rendered (measured: 86 of 2,000 mails went out during
        # rendering, 17 ms each; with it, 500 at 3 ms each).
        time.sleep(0)
    del loaded  # rendered: the prefetched rows may go
    if tokens:  # the links in the mails work before any mail leaves
        session.execute(insert(LoginToken), tokens)
    session.commit()
    return outgoing, outcomes


def _capture(session: DbSession, outgoing: list[Outgoing], now: datetime) -> Counter[str]:
    """Keep the mails in the database instead of sending them (no MAIL_SERVER set)."""
    for item in outgoing:
        session.add(
            CapturedMail(
                recipient="" if item.wire.forget else item.wire.recipient,
                subject=item.mail.subject,
                text_body=item.mail.text,
                html_body=item.mail.html,
                headers=dict(item.mail.headers),
                created_at=now,
            )
        )
    # In the session, so that the mails are kept exactly when they count as sent.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([item.wire.message_id for item in outgoing]))
        .values(status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(_forget_recipients([item.wire.message_id for item in outgoing]))
    session.commit()
    return Counter(sent=len(outgoing))


def _record_failures(session: DbSession, sending: Sending, now: datetime) -> Counter[str]:
    """Put what the server did not take back for a later attempt, or stop it; commit."""
    outcomes: Counter[str] = Counter(sent=sending.sent)
    for message_id, error in sending.refused:
        failure = classify_failure(error)
        permanent = isinstance(failure, PermanentFailure)
        outcomes[_mark_failed(session, message_id, now, str(failure), permanent)] += 1
    if sending.stopped is not None:
        failure = classify_failure(sending.stopped)
        for message_id in sending.untried:
            outcomes[_mark_failed(session, message_id, now, str(failure))] += 1
        log.warning("SMTP delivery stopped (%s); the rest of the batch will be retried", failure)
    session.commit()
    return outcomes


def _forget_recipients(message_ids: list[int]) -> Update:
    """Return the UPDATE that strips sent or stopped mails of kinds that must forget the address."""
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.kind.in_(FORGET_RECIPIENT_KINDS))
        .values(recipient="", last_error=None)
        .execution_options(synchronize_session=False)
    )


def _set_aside_unrenderable(session: DbSession, message: OutboxMessage, now: datetime) -> None:
    """Keep a message that could not be rendered until different code runs.

    Retrying it like a 451 would fail the same way at every pass, fill the log and
    hide the fault behind "retrying"; nor is it the address's fault, so nothing pauses.
    """
    message.status = UNRENDERABLE
    message.attempts += 1
    message.claimed_at = None
    message.failed_release = code_release()
    message.last_error = None  # the traceback is in the server log, not for the admin page


def retry_unrenderable_after_release(session: DbSession, now: datetime) -> int:
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


def _mark_failed(
    session: DbSession, message_id: int, now: datetime, error: str, permanent: bool = False
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
        if message.kind in FORGET_RECIPIENT_KINDS:
            message.recipient = ""
            message.last_error = None
            return message.status
        relative = session.get(Relative, message.relative_id) if message.relative_id else None
        # Only a refusal of the account's own address pauses it (not one of a new address
        # that was still to be confirmed).
        if (
            permanent
            and relative is not None
            and relative.email_paused_at is None
            and relative.email == message.recipient
        ):
            relative.email_paused_at = now
            relative.email_pause_reason = f"Permanent e-post-fel: {error[:250]}"
        return message.status
    message.status = "pending"
    message.next_attempt_at = now + retry_delay(message.attempts)
    return message.status
