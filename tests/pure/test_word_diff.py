"""The editors' word diff and the naming of a problem's field (pure: no Flask, no database)."""

from __future__ import annotations

from guide.content.diff import changed, diff_html, word_diff
from guide.content.workspace import FileProblem, with_fields


def test_one_added_word_is_one_insert_announced_for_screen_readers() -> None:
    pieces = word_diff("Du får stöd.", "Du får mycket stöd.")
    assert [p for p in pieces if p.op != "equal"] == [("insert", "mycket ")]
    html = diff_html(pieces, "borttaget", "tillagt")
    assert '<ins><span class="visually-hidden">[tillagt: </span>mycket ' in html
    assert not changed(word_diff("samma text", "samma text"))


def test_a_problem_is_named_by_its_front_matter_key_or_the_body() -> None:
    source = "---\nid: x\ntitle: X\nrelease:\n  after: 7q\n---\nText med fel.\n"
    problems = with_fields(
        (
            FileProblem(5, "", "'after': '7q' is not a duration", "error", "modules/x.md"),
            FileProblem(7, "", "broken link", "error", "modules/x.md"),
            FileProblem(2, "", "missing field 'summary' in the module", "error", "modules/x.md"),
        ),
        source,
    )
    assert [p.field for p in problems] == ["release", "body", "summary"]
