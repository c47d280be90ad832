"""Send a rendered batch over one SMTP connection and mark what the server took.

This is the part of a delivery pass that waits on the mail server. It reads no app
and no app config, only what it is handed, so that the pass (guide.mail.delivery)
can run it in a thread or in a process of its own, beside the rendering of the next
batch. For that process to start quickly it imports neither Flask nor the models
(tests/test_delivery.py checks both): the outbox columns a mark writes are named
below, and checked there against guide.models.OutboxMessage. What the server took is marked sent in groups of SENT_GROUP, committed at
once: a crash resends at most one group, each mail with the same Message-ID, and
never loses one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Integer,
    String,
    Text,
    case,
    column,
    create_engine,
    table,
    text,
    update,
)

from guide.mail.smtp import SmtpSettings, classify_failure, connection_lost, smtp_connection

# The columns of outbox_message that marking a mail sent writes (guide.models.OutboxMessage).
OUTBOX = table(
    "outbox_message",
    column("id", Integer),
    column("status", String),
    column("sent_at", DateTime(timezone=True)),
    column("attempts", Integer),
    column("last_error", Text),
    column("recipient", String),
)

# Mails the server took are marked sent this many at a time: a crash resends at most these.
SENT_GROUP = 20


@dataclass(frozen=True)
class Wire:
    """One mail as SMTP sends it: its outbox row, its envelope and its bytes."""

    message_id: int
    envelope_from: str
    recipient: str
    data: bytes
    forget: bool = False  # a kind whose row forgets the address once sent (the erasure's)


@dataclass
class Sending:
    """What sending a batch did: how many the server took, and what failed.

    The failures are told apart already (guide.mail.smtp.classify_failure), so that
    they cross from a sending process as plain exceptions.
    """

    sent: int = 0
    refused: list[tuple[int, Exception]] = field(default_factory=list)  # a message, its failure
    stopped: Exception | None = None  # what ended the connection before the batch did
    untried: list[int] = field(default_factory=list)  # left waiting when it stopped


def send_batch(engine: Engine, smtp: SmtpSettings, batch: list[Wire], now: datetime) -> Sending:
    """Send the batch over one SMTP connection; mark what the server took in small groups.

    Marks go on a connection of their own, never the session's. Before a failure is
    reported and at the end, the mails already taken are marked.
    """
    sending = Sending()
    taken: list[Wire] = []

    def mark_taken() -> None:
        if taken:
            mark_sent(marks, taken, now)
            sending.sent += len(taken)
            taken.clear()

    untried = list(reversed(batch))
    with engine.connect() as marks:
        try:
            with smtp_connection(smtp) as server:
                while untried:
                    item = untried.pop()
                    try:
                        server.sendmail(item.envelope_from, [item.recipient], item.data)
                    except Exception as error:
                        mark_taken()
                        sending.refused.append((item.message_id, classify_failure(error)))
                        if connection_lost(error):
                            raise
                        continue
                    taken.append(item)
                    if len(taken) >= SENT_GROUP:
                        mark_taken()
                mark_taken()
        except Exception as error:  # no connection, or it broke: the rest of the batch waits
            mark_taken()
            sending.stopped = classify_failure(error)
            sending.untried = [item.message_id for item in reversed(untried)]
    return sending


def mark_sent(connection: Connection, mails: list[Wire], now: datetime) -> None:
    """Mark mails sent and commit that at once: one UPDATE and one COMMIT for a group."""
    values: dict[str, Any] = {
        "status": "sent",
        "sent_at": now.astimezone(UTC),
        "attempts": OUTBOX.c.attempts + 1,
        "last_error": None,
    }
    forgotten = [mail.message_id for mail in mails if mail.forget]
    if forgotten:
        values["recipient"] = case((OUTBOX.c.id.in_(forgotten), ""), else_=OUTBOX.c.recipient)
    with connection.begin():
        if connection.dialect.name == "postgresql":
            # A mark lost in a database crash resends its group, exactly as a crash of
            # this process would: no need to wait for the disk at every group. LOCAL:
            # nothing outlives the transaction (a pooler may hand the line to another).
            connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_([mail.message_id for mail in mails]))
            .values(values)
        )


# The engine of a sending process: one per process, made when the process starts.
_process_engine: Engine | None = None


def start_sending_process(database_url: str) -> None:
    """Open the database of a sending process (the pool's initializer)."""
    global _process_engine
    _process_engine = create_engine(database_url, pool_size=1, pool_pre_ping=True)


def send_batch_in_process(smtp: SmtpSettings, batch: list[Wire], now: datetime) -> Sending:
    """Send a batch from a sending process, on the engine it opened when it started."""
    assert _process_engine is not None, "start_sending_process runs first"
    return send_batch(_process_engine, smtp, batch, now)
