"""Drawing a sheet of activation cards with reportlab: layout, QR codes and text fitting.

activation_codes.cards_pdf.write_cards_pdf is the way in; it imports this module when
it is called.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

import segno
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from activation_codes.cards_pdf import (
    CARDS_PER_PAGE,
    COLUMNS,
    ROWS,
    CardWording,
    PrintableCard,
    Progress,
    instructions,
    qr_payload,
)

PAGE_WIDTH, PAGE_HEIGHT = A4
CARD_WIDTH, CARD_HEIGHT = 85 * mm, 55 * mm
MARGIN_X = (PAGE_WIDTH - COLUMNS * CARD_WIDTH) / 2
MARGIN_Y = (PAGE_HEIGHT - ROWS * CARD_HEIGHT) / 2

PADDING = 4 * mm
QR_SIDE = 22 * mm  # the dark modules; the quiet zone lies in the padding around them
QR_QUIET_MODULES = 4  # the quiet zone ISO/IEC 18004 asks for

TITLE_FONT, TITLE_SIZE = "Helvetica-Bold", 9.0
CODE_FONT, CODE_SIZE = "Courier-Bold", 17.0
TEXT_FONT, BOLD_FONT, TEXT_SIZE = "Helvetica", "Helvetica-Bold", 7.0
LEADING = 1.22

CUT_LINE_GREY = Color(0.78, 0.78, 0.78)
CUT_MARK_LENGTH, CUT_MARK_GAP = 6 * mm, 2 * mm


def draw(
    cards: Iterable[PrintableCard],
    out: BinaryIO,
    *,
    progress: Progress | None,
    wording: CardWording,
) -> int:
    """Write the sheet as write_cards_pdf describes; return how many cards it holds."""
    canvas = Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(wording.title)
    canvas.setCreator("Lots")
    done = 0
    for page in _pages(cards):
        _draw_cut_guides(canvas)
        for slot, card in enumerate(page):
            _draw_card(canvas, card, *_card_origin(slot), wording)
            done += 1
            if progress is not None:
                progress(done)
        canvas.showPage()
    if done == 0:
        raise ValueError("there are no cards to print")
    canvas.save()
    return done


def _pages(cards: Iterable[PrintableCard]) -> Iterator[Sequence[PrintableCard]]:
    """Yield the cards a page at a time."""
    iterator = iter(cards)
    while page := tuple(itertools.islice(iterator, CARDS_PER_PAGE)):
        yield page


def _card_origin(slot: int) -> tuple[float, float]:
    """Return the bottom-left corner of a slot, numbered row by row from the top."""
    row, column = divmod(slot, COLUMNS)
    return (
        MARGIN_X + column * CARD_WIDTH,
        PAGE_HEIGHT - MARGIN_Y - (row + 1) * CARD_HEIGHT,
    )


def _draw_cut_guides(canvas: Canvas) -> None:
    """Draw light cut lines between the cards and black cut marks in the margins."""
    left, right = MARGIN_X, PAGE_WIDTH - MARGIN_X
    bottom, top = MARGIN_Y, PAGE_HEIGHT - MARGIN_Y
    xs = [left + i * CARD_WIDTH for i in range(COLUMNS + 1)]
    ys = [bottom + j * CARD_HEIGHT for j in range(ROWS + 1)]
    canvas.saveState()
    canvas.setLineWidth(0.25)
    canvas.setStrokeColor(CUT_LINE_GREY)
    canvas.grid(xs, ys)
    # Marks in the margin stay visible after the first cut has removed the lines.
    canvas.setStrokeColor(black)
    near, far = CUT_MARK_GAP, CUT_MARK_GAP + CUT_MARK_LENGTH
    marks = [(x, bottom - near, x, bottom - far) for x in xs]
    marks += [(x, top + near, x, top + far) for x in xs]
    marks += [(left - near, y, left - far, y) for y in ys]
    marks += [(right + near, y, right + far, y) for y in ys]
    canvas.lines(marks)
    canvas.restoreState()


def _draw_card(
    canvas: Canvas, card: PrintableCard, x: float, y: float, wording: CardWording
) -> None:
    """Draw one card with its bottom-left corner at (x, y)."""
    inner_width = CARD_WIDTH - 2 * PADDING
    top = y + CARD_HEIGHT - PADDING

    baseline = top - TITLE_SIZE
    canvas.setFont(TITLE_FONT, TITLE_SIZE)
    canvas.drawString(
        x + PADDING, baseline, _fit(card.guide_title, TITLE_FONT, TITLE_SIZE, inner_width)
    )

    code_size = min(CODE_SIZE, _size_to_fit(card.code, CODE_FONT, inner_width))
    baseline -= 4 + code_size
    canvas.setFont(CODE_FONT, code_size)
    canvas.drawString(x + PADDING, baseline, card.code)

    module = _draw_qr(canvas, qr_payload(card), x + CARD_WIDTH - PADDING - QR_SIDE, y + PADDING)

    # The text column stops where the QR code's quiet zone starts.
    column_width = inner_width - QR_SIDE - QR_QUIET_MODULES * module - 2
    leading = TEXT_SIZE * LEADING

    canvas.setFont(TEXT_FONT, TEXT_SIZE)
    baseline -= 6 + TEXT_SIZE
    for line in _wrap(instructions(card, wording), TEXT_FONT, TEXT_SIZE, column_width, max_lines=4):
        canvas.drawString(x + PADDING, baseline, line)
        baseline -= leading

    # The unit and the expiry sit at the bottom, read upwards from the edge.
    footer: list[tuple[str, str]] = [
        (BOLD_FONT, _fit(card.unit_name, BOLD_FONT, TEXT_SIZE, column_width))
    ]
    footer += [
        (TEXT_FONT, line)
        for line in _wrap(card.unit_contact, TEXT_FONT, TEXT_SIZE, column_width, max_lines=2)
    ]
    if card.expires is not None:
        footer.append((TEXT_FONT, wording.expires % {"date": card.expires.isoformat()}))
    baseline = y + PADDING
    for font, line in reversed(footer):
        canvas.setFont(font, TEXT_SIZE)
        canvas.drawString(x + PADDING, baseline, line)
        baseline += leading


def _draw_qr(canvas: Canvas, payload: str, x: float, y: float) -> float:
    """Draw the QR code of ``payload`` with its dark area in a square at (x, y).

    Return the module size, so the caller can keep the quiet zone clear.
    """
    # Medium error correction survives a crease or a thumbprint; segno raises the
    # level further when the version it picks has room to spare.
    matrix = segno.make_qr(payload, error="m").matrix
    module = QR_SIDE / len(matrix)
    # One rectangle per run of dark modules, in module units from the top-left
    # corner, so every coordinate is a small integer. They are written as raw
    # "re" operators: reportlab's path objects format each number as a float and
    # took a third of the time of a 10,000-card sheet.
    rectangles = []
    for row_index, row in enumerate(matrix):
        column = 0
        for dark, run in itertools.groupby(row):
            length = len(list(run))
            if dark:
                rectangles.append(f"{column} {row_index} {length} 1 re")
            column += length
    canvas.saveState()
    canvas.setFillColor(black)
    canvas.transform(module, 0, 0, -module, x, y + QR_SIDE)
    # One fill of one path: viewers leave no hairline seams between the modules.
    canvas.addLiteral("\n".join(rectangles) + "\nf")
    canvas.restoreState()
    return float(module)


def _printable(text: str) -> str:
    """Replace characters the base-14 fonts lack, which would print as black boxes.

    Letters with accents outside WinAnsi keep their base letter (ő → o); anything
    else becomes "?".
    """
    if _encodable(text):
        return text
    kept = []
    for ch in text:
        if _encodable(ch):
            kept.append(ch)
        else:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", ch)
                if _encodable(c) and not unicodedata.combining(c)
            )
            kept.append(base or "?")
    return "".join(kept)


def _encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _size_to_fit(text: str, font: str, width: float) -> float:
    """Return the font size at which ``text`` is exactly ``width`` wide."""
    return float(width / stringWidth(text, font, 1))


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Return ``text`` shortened with an ellipsis until it fits ``width``."""
    text = _printable(" ".join(text.split()))
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, font: str, size: float, width: float, *, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines no wider than ``width``.

    A word too long for a line (a long web address) is broken between characters;
    text beyond the last line is cut with an ellipsis.
    """
    lines: list[str] = []
    current = ""
    for word in _printable(text).split():
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while stringWidth(current, font, size) > width:
            cut = len(current) - 1
            while cut > 1 and stringWidth(current[:cut], font, size) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _fit(" ".join(lines[max_lines - 1 :]), font, size, width)]
    return lines
