"""Properties of the editors' word diff over random texts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from guide.content.diff import word_diff

WORDS = st.lists(st.sampled_from(["du", "får", "stöd", "hjälp", "nu", "\n", "ring"]), max_size=30)


@given(WORDS, WORDS)
def test_the_pieces_give_back_both_texts(old_words: list[str], new_words: list[str]) -> None:
    old, new = " ".join(old_words), " ".join(new_words)
    pieces = word_diff(old, new)
    assert "".join(p.text for p in pieces if p.op != "delete") == new
    assert [w for p in pieces if p.op != "insert" for w in p.text.split()] == old.split()
