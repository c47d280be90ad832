"""A word-level diff of two texts, for editors comparing versions (pure)."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal, NamedTuple

from markupsafe import Markup, escape

# A word with the space after it, so joining the pieces gives the text back.
_TOKEN = re.compile(r"\S+\s*|\s+")


class Piece(NamedTuple):
    op: Literal["equal", "insert", "delete"]
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """Return the pieces that turn `old` into `new`, word by word."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    # Compare words without their trailing space, so a moved line break is no change.
    matcher = SequenceMatcher(None, [t.strip() for t in a], [t.strip() for t in b], autojunk=False)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            pieces.append(Piece("delete", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("insert", "".join(b[j1:j2])))
    return pieces


def diff_html(pieces: list[Piece], removed: str, added: str) -> Markup:
    """Render pieces with <del>/<ins>, each announced in words for screen readers."""
    out = []
    for op, text in pieces:
        if op == "equal":
            out.append(escape(text))
        elif op == "delete":
            out.append(
                Markup(
                    '<del><span class="visually-hidden">[{}: </span>{}'
                    '<span class="visually-hidden">]</span></del>'
                ).format(removed, text)
            )
        else:
            out.append(
                Markup(
                    '<ins><span class="visually-hidden">[{}: </span>{}'
                    '<span class="visually-hidden">]</span></ins>'
                ).format(added, text)
            )
    return Markup("").join(out)


def changed(pieces: list[Piece]) -> bool:
    return any(piece.op != "equal" for piece in pieces)
