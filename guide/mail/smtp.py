"""Talk to the mail server: one connection per batch, a timeout, and failures told apart."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a sending process imports this module without Flask
    from flask import Flask


class PermanentFailure(Exception):
    """The mail server refused the message for good (5xx): do not try again."""


class TemporaryFailure(Exception):
    """The mail server could not take the message now (4xx, refused, timeout): retry later."""


def classify_failure(error: BaseException) -> Exception:
    """Return a TemporaryFailure or PermanentFailure for an error from smtplib or the network."""
    if isinstance(error, PermanentFailure | TemporaryFailure):
        return error  # told apart already (guide.mail.sending does it where it sends)
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


def connection_lost(error: BaseException) -> bool:
    """Return whether the SMTP connection is unusable after `error` (the rest must wait)."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421  # "closing transmission channel"
    # smtplib's own errors are OSErrors too; only the network's mean the line is gone.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


@dataclass(frozen=True)
class SmtpSettings:
    """The mail server to send through: Flask-Mail's settings and GUIDE_SMTP_TIMEOUT."""

    server: str
    port: int
    use_ssl: bool
    use_tls: bool
    username: str | None
    password: str | None
    debug: int
    timeout: float

    @classmethod
    def of(cls, app: Flask) -> SmtpSettings:
        state = app.extensions["mail"]
        return cls(
            server=state.server,
            port=int(state.port),
            use_ssl=bool(state.use_ssl),
            use_tls=bool(state.use_tls),
            username=state.username,
            password=state.password,
            debug=int(state.debug),
            timeout=float(app.config["GUIDE_SMTP_TIMEOUT"]),
        )


@contextmanager
def smtp_connection(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """Open the mail server for one batch, with a timeout.

    Flask-Mail opens smtplib.SMTP without a timeout, so a server that accepts the
    connection and then says nothing would hold the delivery pass (and, with one
    instance at a time, all delivery) forever; GUIDE_SMTP_TIMEOUT bounds every step.
    """
    factory = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
    host = factory(settings.server, settings.port, timeout=settings.timeout)
    try:
        host.set_debuglevel(settings.debug)
        if settings.use_tls:
            host.starttls()
        if settings.username and settings.password:
            host.login(settings.username, settings.password)
        yield host
    finally:
        try:
            host.quit()
        except (smtplib.SMTPException, OSError):
            host.close()  # the line is gone already; there is nothing to say goodbye to
