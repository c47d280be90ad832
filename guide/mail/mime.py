"""Turn a rendered mail into the bytes of an RFC 5322 message, cheaply.

Flask-Mail builds each message with the standard library's `email` package under
its SMTP policy, which parses and refolds every header of every message again: about
as long as everything else the delivery pass does for a mail. The mails of a batch
share almost all of their headers (the sender, the subject in a few variants,
MIME-Version, the structure), so a `Composer` encodes each distinct header once and
writes the per-message parts (To, Date, Message-ID, List-Unsubscribe) and the two
bodies, quoted-printable, around them. The result is a plain multipart/alternative
message that `email.message_from_bytes(..., policy=email.policy.default)` reads back
exactly (the delivery tests read every mail that way).
"""

from __future__ import annotations

import quopri
import uuid
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

CRLF = b"\r\n"


@dataclass
class Composer:
    """Write messages from one sender; remembers the headers it has encoded."""

    sender: str  # "Lots <no-reply@kommun.se>", as MAIL_DEFAULT_SENDER says it
    _encoded: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name, address = parseaddr(self.sender)
        self.envelope_from = address
        self._from = ("From: " + formataddr((name, address), charset="utf-8")).encode("ascii")

    def compose(
        self,
        recipient: str,
        subject: str,
        text: str,
        html: str,
        headers: dict[str, str],
        date: float | None = None,
    ) -> bytes:
        """Return the message's bytes with CRLF line ends, ready for SMTP DATA."""
        boundary = f"=_lots_{uuid.uuid4().hex}"
        lines = [
            self._from,
            b"To: " + recipient.encode("ascii"),
            self._header("Subject", subject),
            b"Date: " + formatdate(date, usegmt=True).encode("ascii"),
            b"MIME-Version: 1.0",
        ]
        lines += [self._header(name, value) for name, value in headers.items()]
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode())
        lines.append(b"")
        marker = b"--" + boundary.encode("ascii")
        for subtype, body in (("plain", text), ("html", html)):
            lines += [
                marker,
                f'Content-Type: text/{subtype}; charset="utf-8"'.encode("ascii"),
                b"Content-Transfer-Encoding: quoted-printable",
                b"",
                _quoted_printable(body),
            ]
        lines.append(marker + b"--")
        lines.append(b"")
        return CRLF.join(lines)

    def _header(self, name: str, value: str) -> bytes:
        """Write a header; one that needs RFC 2047 (a Swedish subject) is encoded once."""
        if value.isascii():
            return f"{name}: {value}".encode("ascii")
        key = f"{name}\0{value}"
        encoded = self._encoded.get(key)
        if encoded is None:
            folded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
            encoded = f"{name}: {folded}".encode("ascii")
            self._encoded[key] = encoded
        return encoded


def _quoted_printable(body: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends (quopri writes LF).

    Trailing line ends stay: the CRLF before the next boundary belongs to the
    boundary, so a body's own last (empty) lines read back as written.
    """
    normal = body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return quopri.encodestring(normal).replace(b"\n", CRLF)
