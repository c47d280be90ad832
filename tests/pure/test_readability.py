"""LIX on Markdown prose."""

from guide.content.readability import lix


def test_counts_words_sentences_and_long_words() -> None:
    # 13 words, 2 sentences, 1 word longer than six letters.
    text = "Det här är en mening. Här är en till mening med långa ordförbindelser."
    assert round(lix(text), 2) == round(13 / 2 + 100 * 1 / 13, 2)


def test_headings_and_list_items_end_a_sentence() -> None:
    assert lix("## Rubrik\n\n- punkt ett\n- punkt två\n\nText här.") == 7 / 4 + 100 * 0 / 7


def test_link_targets_and_placeholders_are_not_words() -> None:
    plain = lix("Ring oss.")
    assert lix("[Ring](https://exempel.se/mycket-langa-ord) oss.") == plain
    assert lix("Ring {{ local.anhorigstod.telefon }}.") == lix("Ring x.")


def test_empty_text_scores_zero() -> None:
    assert lix("") == 0.0
