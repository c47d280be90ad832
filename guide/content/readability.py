"""LIX, the Swedish readability index, computed on the prose of a Markdown text."""

from __future__ import annotations

import re

_CODE = re.compile(r"`[^`]*`")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?:]+(?=\s|$)")
LONG_WORD = 6


def lix(markdown: str) -> float:
    """Return the LIX of a text: words/sentences + 100 × long words/words.

    A heading or list item without a full stop still ends a sentence, since a reader
    pauses there; placeholders and link targets are not words a reader sees.
    """
    words, long_words, sentences = 0, 0, 0
    for block in _blocks(markdown):
        found = _WORD.findall(block)
        if not found:
            continue
        words += len(found)
        long_words += sum(1 for w in found if len(w.replace("-", "")) > LONG_WORD)
        sentences += len(_SENTENCE_END.findall(block))
        if not block.rstrip().endswith((".", "!", "?", ":")):
            sentences += 1
    if words == 0:
        return 0.0
    return words / max(sentences, 1) + 100 * long_words / words


def _blocks(markdown: str) -> list[str]:
    """Split into units that end a sentence by layout: paragraphs, headings, list items."""
    text = _PLACEHOLDER.sub(" x ", _LINK.sub(r"\1", _CODE.sub(" ", markdown)))
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        starts_item = bool(re.match(r"^([#>]+|[-*+]|\d+[.)])\s", stripped))
        if not stripped or starts_item:
            if current:
                blocks.append(" ".join(current))
            current = []
        if stripped:
            current.append(re.sub(r"^([#>]+|[-*+]|\d+[.)])\s+", "", stripped))
    if current:
        blocks.append(" ".join(current))
    return blocks
