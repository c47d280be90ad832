"""Tests for the printable card sheets: pages, text, QR payload and progress."""

import io
import math
import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from pypdf import PdfReader

from activation_codes.cards_pdf import (
    CARDS_PER_PAGE,
    PrintableCard,
    instructions,
    qr_payload,
    write_cards_pdf,
)
from activation_codes.codes import generate_code

BASE_URL = "https://lots.example.se/aktivera"


def make_card(index: int = 0, **overrides: object) -> PrintableCard:
    code = generate_code(("DEM", "ATE", "EFT")[index % 3])
    fields: dict[str, object] = {
        "code": code,
        "activation_url": f"{BASE_URL}?kod={code}",
        "guide_title": "Demenslots för anhöriga",
        "unit_name": "Anhörigstödet Ängelholm",
        "unit_contact": "Ring 0431-870 00, vardagar 8–16",
        "expires": None,
    }
    fields.update(overrides)
    return PrintableCard(**fields)  # type: ignore[arg-type]


def render(cards: list[PrintableCard]) -> PdfReader:
    out = io.BytesIO()
    write_cards_pdf(cards, out)
    return PdfReader(io.BytesIO(out.getvalue()))


def all_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def drawn_dark_modules(reader: PdfReader) -> set[tuple[int, int]]:
    """Return the QR modules drawn on a one-card page as (row, column) cells."""
    stream = reader.pages[0].get_contents()
    assert stream is not None
    cells = set()
    for column, row, length in re.findall(rb"(\d+) (\d+) (\d+) 1 re", stream.get_data()):
        cells |= {(int(row), int(column) + i) for i in range(int(length))}
    return cells


def dark_modules(payload: str) -> set[tuple[int, int]]:
    matrix = segno.make_qr(payload, error="m").matrix
    return {(r, c) for r, row in enumerate(matrix) for c, dark in enumerate(row) if dark}


@pytest.mark.parametrize("count", [1, 7, 8, 9, 17, 24])
def test_pdf_parses_and_has_a_page_per_eight_cards(count: int) -> None:
    reader = render([make_card(i) for i in range(count)])
    assert len(reader.pages) == math.ceil(count / CARDS_PER_PAGE)


def test_pages_are_a4() -> None:
    box = render([make_card()]).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_every_code_appears_in_the_text() -> None:
    cards = [make_card(i) for i in range(19)]
    text = all_text(render(cards))
    for card in cards:
        assert card.code in text


def test_each_code_is_on_its_own_page() -> None:
    cards = [make_card(i) for i in range(2 * CARDS_PER_PAGE)]
    reader = render(cards)
    for page_index, page in enumerate(reader.pages):
        text = page.extract_text()
        on_page = cards[page_index * CARDS_PER_PAGE : (page_index + 1) * CARDS_PER_PAGE]
        assert all(card.code in text for card in on_page)


def test_qr_payload_is_the_activation_url_with_the_code() -> None:
    card = make_card()
    payload = qr_payload(card)
    assert payload == f"{BASE_URL}?kod={card.code}"
    assert parse_qs(urlsplit(payload).query)["kod"] == [card.code]


def test_drawn_qr_code_encodes_the_payload() -> None:
    card = make_card()
    reader = render([card])
    assert drawn_dark_modules(reader) == dark_modules(qr_payload(card))


def test_card_refuses_a_url_for_another_code() -> None:
    other = generate_code("DEM")
    with pytest.raises(ValueError, match="kod="):
        make_card(activation_url=f"{BASE_URL}?kod={other}")
    with pytest.raises(ValueError):
        make_card(activation_url=BASE_URL)


def test_swedish_letters_survive_in_the_text() -> None:
    card = make_card(
        guide_title="Återhämtning för anhöriga",
        unit_name="Anhörigstödet Ängelholm",
        unit_contact="Öppet måndag–fredag",
    )
    text = all_text(render([card]))
    for expected in ["Återhämtning för anhöriga", "Ängelholm", "Öppet måndag", "gång"]:
        assert expected in text


def test_card_shows_instructions_unit_and_contact() -> None:
    card = make_card()
    text = " ".join(all_text(render([card])).split())
    assert "Gå till lots.example.se/aktivera och skriv in koden" in text
    assert "skanna QR-koden" in text
    assert "Koden kan bara användas en gång." in text
    assert card.unit_name in text
    assert card.unit_contact in text


def test_instructions_name_the_address_without_scheme_or_code() -> None:
    card = make_card()
    assert instructions(card).startswith("Gå till lots.example.se/aktivera och skriv in koden")
    assert card.code not in instructions(card)


def test_expiry_date_is_shown_only_when_set() -> None:
    with_expiry = all_text(render([make_card(expires=date(2026, 6, 30))]))
    without = all_text(render([make_card()]))
    assert "Koden gäller till och med 2026-06-30." in with_expiry
    assert "gäller till" not in without


def test_letters_the_fonts_lack_print_as_their_base_letter() -> None:
    text = all_text(render([make_card(unit_name="Čačak anhörigstöd")]))
    assert "Cacak anhörigstöd" in text


def test_long_texts_are_shortened_to_fit_the_card() -> None:
    card = make_card(
        guide_title="En mycket lång titel " * 10,
        unit_contact="ring oss " * 40,
    )
    text = all_text(render([card]))
    assert "…" in text
    assert card.code in text


def test_progress_reports_every_card_done() -> None:
    seen: list[int] = []
    write_cards_pdf([make_card(i) for i in range(10)], io.BytesIO(), progress=seen.append)
    assert seen == list(range(1, 11))


def test_accepts_cards_from_a_generator() -> None:
    def cards() -> Iterator[PrintableCard]:
        for index in range(9):
            yield make_card(index)

    out = io.BytesIO()
    assert write_cards_pdf(cards(), out) == 9
    assert len(PdfReader(io.BytesIO(out.getvalue())).pages) == 2


def test_raises_if_there_are_no_cards_and_writes_nothing() -> None:
    out = io.BytesIO()
    with pytest.raises(ValueError):
        write_cards_pdf([], out)
    assert out.getvalue() == b""


def test_output_is_the_same_for_the_same_cards() -> None:
    # Reprinting a batch gives the same file: no timestamps or random ids inside.
    cards = [make_card(i) for i in range(3)]
    first, second = io.BytesIO(), io.BytesIO()
    write_cards_pdf(cards, first)
    write_cards_pdf(cards, second)
    assert first.getvalue() == second.getvalue()
