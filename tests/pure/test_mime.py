"""The mails we compose read back exactly as they were meant, with the standard library's strict parser."""

from __future__ import annotations

import email
import email.policy

from guide.mail.mime import Composer

SENDER = "Lots – anhörigstöd <no-reply@kommun.se>"


def parse(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_a_composed_mail_is_multipart_alternative_with_our_headers() -> None:
    composer = Composer(SENDER)
    data = composer.compose(
        "anna@example.se",
        "Nytt avsnitt i din guide – läs när du vill",
        "Hej!\nDet finns nytt att läsa.\n",
        "<p>Hej!</p>",
        {"Message-ID": "<notice.1.r2@kommun.se>", "List-Unsubscribe": "<https://kommun.se/a/1>"},
    )
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    message = parse(data)
    assert message["From"] == SENDER
    assert message["To"] == "anna@example.se"
    assert message["Subject"] == "Nytt avsnitt i din guide – läs när du vill"
    assert message["Message-ID"] == "<notice.1.r2@kommun.se>"
    assert message["List-Unsubscribe"] == "<https://kommun.se/a/1>"
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    # SMTP carries CRLF line ends; a mail client shows the same lines.
    assert plain.get_content().splitlines() == ["Hej!", "Det finns nytt att läsa."]
    assert html.get_content().strip() == "<p>Hej!</p>"
    assert message.defects == []


def test_the_envelope_sender_is_the_address_alone() -> None:
    assert Composer(SENDER).envelope_from == "no-reply@kommun.se"


# Printable text, as subjects and bodies are (control characters never reach a mail).


def test_a_subject_is_encoded_once_for_the_whole_batch() -> None:
    composer = Composer(SENDER)
    for n in range(50):
        composer.compose(f"r{n}@example.se", "Några frågor till dig", "x", "y", {})
    assert len(composer._encoded) == 1
