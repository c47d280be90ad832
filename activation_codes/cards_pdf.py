"""Print-ready A4 sheets of activation cards: code, QR code, instructions and contact.

Eight business-card-sized cards (85 × 55 mm) sit on each A4 page in two columns and
four rows, with thin cut lines between them and cut marks in the margin. Everything is
vector: text in the PDF base-14 fonts (no font files to ship; their WinAnsi encoding
covers å, ä, ö and é) and each QR code as one filled path of rectangles, so the sheet
prints sharp at any resolution and the codes stay searchable text.

What a card says lives here; how a sheet is drawn lives in activation_codes.sheet,
which brings reportlab and segno and is imported only when a sheet is written (0.1 s
of every process's start otherwise: the app imports this module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

COLUMNS, ROWS = 2, 4
CARDS_PER_PAGE = COLUMNS * ROWS

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PrintableCard:
    """What one printed card shows; the web app builds these from issued cards."""

    code: str
    activation_url: str
    """The activation page with the code filled in: ``...?kod=<code>``."""
    guide_title: str
    unit_name: str
    unit_contact: str
    expires: date | None = None

    def __post_init__(self) -> None:
        # The QR code must open the page with the very code printed beside it;
        # a mismatch would send relatives to someone else's card.
        if parse_qs(urlsplit(self.activation_url).query).get("kod") != [self.code]:
            raise ValueError(
                f"activation_url must carry kod={self.code}, got {self.activation_url!r}"
            )


@dataclass(frozen=True)
class CardWording:
    """The words printed around the code, Swedish unless the caller passes its own.

    The app passes them translated into the staff member's language; `%(address)s`
    and `%(date)s` are filled in per card.
    """

    instructions: str = (
        "Gå till %(address)s och skriv in koden, eller skanna QR-koden. "
        "Koden kan bara användas en gång."
    )
    expires: str = "Koden gäller till och med %(date)s."
    title: str = "Aktiveringskort"


SWEDISH = CardWording()


def qr_payload(card: PrintableCard) -> str:
    """Return the text the card's QR code encodes: its activation URL."""
    return card.activation_url


def activation_address(card: PrintableCard) -> str:
    """Return the address to type by hand: host and path, without scheme or query."""
    parts = urlsplit(card.activation_url)
    return f"{parts.netloc}{parts.path}".rstrip("/")


def instructions(card: PrintableCard, wording: CardWording = SWEDISH) -> str:
    """Return the short instructions printed on the card (Swedish unless `wording` says)."""
    return wording.instructions % {"address": activation_address(card)}


def write_cards_pdf(
    cards: Iterable[PrintableCard],
    out: BinaryIO,
    *,
    progress: Progress | None = None,
    wording: CardWording = SWEDISH,
) -> int:
    """Write the cards as a print-ready A4 PDF to ``out`` and return how many.

    Cards are drawn page by page as they are read from ``cards``, so a generator
    works and no QR code outlives its page. ``progress`` is called with the number
    of cards drawn so far after each card. Raises ``ValueError`` when there are no
    cards, before anything is written.

    reportlab writes the file in :meth:`Canvas.save`, so each finished page's
    drawing instructions stay in memory until then: about 6 KB a card, some 60 MB
    for 10,000 cards. Split larger batches into several files.
    """
    from activation_codes import sheet  # noqa: PLC0415 - reportlab only when printing

    return sheet.draw(cards, out, progress=progress, wording=wording)
