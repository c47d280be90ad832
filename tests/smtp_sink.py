"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests and benchmarks.

It can refuse on purpose: `refuse_rcpt` and `refuse_data` are called for each
recipient and each message and return an SMTP reply such as "451 4.3.0 Try later"
to refuse it, or None to take it.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]

    def text(self) -> str:
        """Return the plain-text part, as a mail client shows it."""
        return str(self.parsed().get_body(("plain",)).get_content())  # type: ignore[union-attr]

    def html(self) -> str:
        """Return the HTML part."""
        return str(self.parsed().get_body(("html",)).get_content())  # type: ignore[union-attr]

    @property
    def message_id(self) -> str:
        # The headers alone: parsing thousands of whole messages would slow the race tests.
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(self.data)
        return str(headers["Message-ID"]).strip()


class SmtpSink:
    """The handler: counts connections (one EHLO each) and keeps every accepted message."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.connections = 0
        self.refused = 0
        self.refuse_rcpt: Callable[[str], str | None] | None = None
        self.refuse_data: Callable[[bytes], str | None] | None = None
        self.port = 0
        self._lock = threading.Lock()

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:  # fmt: skip
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:  # fmt: skip
        verdict = self.refuse_rcpt(address) if self.refuse_rcpt else None
        if verdict is not None:
            with self._lock:
                self.refused += 1
            return verdict
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        verdict = self.refuse_data(envelope.original_content) if self.refuse_data else None
        if verdict is not None:
            with self._lock:
                self.refused += 1
            return verdict
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 2.0.0 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        """Count the accepted messages by Message-ID: every count should be 1."""
        return Counter(received.message_id for received in self.received)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.connections = 0
            self.refused = 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_sink() -> Iterator[SmtpSink]:
    """Run an SmtpSink on a free loopback port for the duration of the block."""
    sink = SmtpSink()
    controller = Controller(sink, hostname=HOST, port=free_port(), ready_timeout=10)
    controller.start()
    sink.port = controller.port
    sink.reset()  # the controller's own start-up probe is not a client
    try:
        yield sink
    finally:
        controller.stop()


def smtp_environment(port: int) -> dict[str, str]:
    """Return the environment variables that send an app's mail to an SMTP server on loopback."""
    return {
        "MAIL_SERVER": HOST,
        "MAIL_PORT": str(port),
        "MAIL_DEFAULT_SENDER": "Lots <no-reply@lots.test>",
    }
