"""The content format's date anchors: a `date` question and the schedules that count from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from guide.content.checker import check_content
from guide.content.loader import load_library
from guide.content.model import Duration, PhaseStart, QuestionType
from tests.pure.test_content_checker import edit, problems

DATE_QUESTION = """  - id: datum
    type: date
    text: {sv: Ungefär när hände det?}
"""


def with_date_anchors(root: Path) -> str:
    """Give the fixture a date question and anchor a phase, a check-in and a module on it."""
    path = edit(root, "stod/guide.yaml", "profile:\n", "profile:\n" + DATE_QUESTION)
    edit(
        root,
        "stod/guide.yaml",
        "    duration: 14d\n    next: sedan\n",
        "    next: sedan\n",
    )
    edit(
        root,
        "stod/guide.yaml",
        "    title: {sv: Sedan}\n",
        "    title: {sv: Sedan}\n    at: {after: 14d, from: datum}\n",
    )
    edit(root, "stod/guide.yaml", "    first: 3d\n", "    first: 3d\n    from: datum\n")
    edit(
        root,
        "stod/modules/avlosning.md",
        "release: {after: 7d}",
        "release: {after: 7d, from: datum}",
    )
    return path


def test_date_anchors_load_into_the_model(content_copy: Path) -> None:
    with_date_anchors(content_copy)
    assert problems(content_copy) == []
    guide = load_library(content_copy).guide("stod")
    question = guide.profile[0]
    assert (question.id, question.type, question.allow_future) == (
        "datum",
        QuestionType.DATE,
        False,
    )
    assert guide.phase("sedan").at == PhaseStart(Duration(14, "d"), "datum")
    assert guide.phase("start").duration is None and guide.phase("start").next == "sedan"
    checkin = guide.checkin("hur-gar-det")
    assert (checkin.after, checkin.date_question) == ("date", "datum")
    release = guide.module("avlosning").release
    assert (release.anchor, release.date_question) == ("date", "datum")


def test_a_date_question_may_allow_the_future(content_copy: Path) -> None:
    with_date_anchors(content_copy)
    edit(
        content_copy,
        "stod/guide.yaml",
        "    type: date\n",
        "    type: date\n    allow_future: true\n",
    )
    assert problems(content_copy) == []
    assert load_library(content_copy).guide("stod").profile[0].allow_future is True


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "message"),
    [
        (
            "stod/modules/avlosning.md",
            "from: datum}",
            "from: relation}",
            5,
            "'from: relation' names a choice question; a schedule can count only from a "
            "question of type date",
        ),
        (
            "stod/modules/avlosning.md",
            "from: datum}",
            "from: dodsdatum}",
            5,
            "'from: dodsdatum' names no date question of this guide (use phase, activation "
            "or the id of a question of type date)",
        ),
        (
            "stod/guide.yaml",
            "    from: datum\n",
            "    from: ork\n",
            31,
            "'from: ork' names a scale question; a schedule can count only from a question "
            "of type date",
        ),
        (
            "stod/guide.yaml",
            "at: {after: 14d, from: datum}",
            "at: {after: 14d, from: nar}",
            13,
            "'from: nar' names no date question of this guide (use phase, activation or the "
            "id of a question of type date)",
        ),
        (
            "stod/guide.yaml",
            "at: {after: 14d, from: datum}",
            "at: {after: 14d, form: datum}",
            13,
            "unknown field 'form' in 'at' of phase 'sedan' (did you mean 'from'?)",
        ),
        (
            "stod/guide.yaml",
            "    next: sedan\n",
            "    duration: 14d\n    next: sedan\n",
            10,
            "phase 'start' ends when phase 'sedan' starts by its 'at'; leave out 'duration'",
        ),
        (
            "stod/guide.yaml",
            "        type: scale\n",
            "        type: scale\n        allow_future: true\n",
            36,
            "'allow_future' is true or false, and only for date questions ('ork' is scale)",
        ),
        (
            "stod/guide.yaml",
            "      - when: {ork: {lte: 2}}",
            "      - when: {datum: 2026-01-01}",
            41,
            "a condition cannot test the date question 'datum'; anchor a schedule on it with "
            "'from' instead",
        ),
    ],
)
def test_a_date_anchor_mistake_is_reported_at_its_line(
    content_copy: Path, file: str, old: str, new: str, line: int, message: str
) -> None:
    with_date_anchors(content_copy)
    path = edit(content_copy, file, old, new)
    assert f"{path}:{line}: {message}" in problems(content_copy)
    assert any(p.severity == "error" for p in check_content(content_copy))
