"""Check what a guide's parts say about each other, once all of it is read.

The loader reads guide.yaml and the modules in one pass and notes every reference
it meets (a rule that releases a module, a mute or a check-in bound to a phase, a
condition on a question); this module checks them against what the guide turned out
to hold, and reports each problem at the line of the reference. Pure like the rest
of the content library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guide.content.model import Module, Phase, Question, QuestionType
from guide.content.yamlsource import LineMap

# error(line, message, path): the reader's way of reporting a problem.
Report = Callable[[int, str, str], None]


@dataclass
class References:
    """Every reference noted while reading a guide, with where it stands."""

    modules: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line, module id)
    # (path, line, "phase:<id>" or "any:<module or phase id>")
    targets: list[tuple[str, int, str]] = field(default_factory=list)
    # (path, line, the raw condition, "rule" or "module")
    conditions: list[tuple[str, int, LineMap | Any, str]] = field(default_factory=list)
    # (path, line, question id) of each `from:` that anchors a schedule on a date answer
    dates: list[tuple[str, int, str]] = field(default_factory=list)


def answer_id(value: Any) -> str:
    """Spell an option as a string; YAML reads yes/no as booleans."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def check_references(
    references: References,
    guide_path: str,
    phases: list[Phase],
    modules: list[Module],
    questions: Mapping[str, Question],
    error: Report,
) -> dict[str, list[tuple[str, int]]]:
    """Report every reference to a module, phase or question the guide does not have.

    Return, per module, where the rules that release it stand (the checker tells an
    on-demand module that no rule releases from there).
    """
    module_ids = {m.id for m in modules}
    phase_ids = {p.id for p in phases}
    released_by: dict[str, list[tuple[str, int]]] = {}
    for path, line, target in references.modules:
        if target not in module_ids:
            error(line, f"the rule releases unknown module '{target}'", path)
        else:
            released_by.setdefault(target, []).append((path, line))
    for path, line, ref in references.targets:
        kind, _, target = ref.partition(":")
        if kind == "phase" and target not in phase_ids:
            error(line, f"unknown phase '{target}'", path)
        if kind == "any" and target not in phase_ids and target not in module_ids:
            error(line, f"mute names '{target}', which is neither a module nor a phase", path)
    for path, line, raw, _ in references.conditions:
        check_condition(raw, line, path, questions, error)
    for path, line, question_id in references.dates:
        check_date_anchor(question_id, line, path, questions, error)
    check_phase_loops(phases, guide_path, error)
    return released_by


def check_date_anchor(
    question_id: str, line: int, path: str, questions: Mapping[str, Question], error: Report
) -> None:
    """Check that a `from:` names a date question (or is one of the fixed anchors)."""
    question = questions.get(question_id)
    if question is None:
        error(
            line,
            f"'from: {question_id}' names no date question of this guide "
            "(use phase, activation or the id of a question of type date)",
            path,
        )
    elif question.type is not QuestionType.DATE:
        error(
            line,
            f"'from: {question_id}' names a {question.type.value} question; "
            "a schedule can count only from a question of type date",
            path,
        )


def check_condition(
    raw: Any, line: int, path: str, questions: Mapping[str, Question], error: Report
) -> None:
    """Check one `when`: every question exists, can be tested, and every value fits it."""
    if not isinstance(raw, LineMap) or not raw:
        error(line, "'when' must map question ids to values", path)
        return
    for question_id, expected in raw.items():
        field_line = raw.line_of(question_id)
        question = questions.get(str(question_id))
        if question is None:
            error(field_line, f"the condition names unknown question '{question_id}'", path)
            continue
        if question.type is QuestionType.TEXT:
            error(
                field_line, f"a condition cannot test the free-text question '{question_id}'", path
            )
            continue
        if question.type is QuestionType.DATE:
            error(
                field_line,
                f"a condition cannot test the date question '{question_id}'; "
                "anchor a schedule on it with 'from' instead",
                path,
            )
            continue
        if isinstance(expected, LineMap):
            bad = set(expected) - {"lte", "gte"}
            if bad or question.type is not QuestionType.SCALE:
                error(
                    field_line, f"lte/gte only apply to scale questions, not '{question_id}'", path
                )
                continue
            if not all(isinstance(v, int) for v in expected.values()):
                error(field_line, "lte and gte take whole numbers 1 to 5", path)
                continue
            if expected.get("gte", 1) > expected.get("lte", 5):
                error(field_line, f"the condition on '{question_id}' can never hold", path)
            continue
        values = expected if isinstance(expected, list) else [expected]
        if not values:
            error(field_line, f"the condition on '{question_id}' lists no values", path)
        for value in values:
            if answer_id(value) not in question.option_ids:
                allowed = ", ".join(question.option_ids)
                error(
                    field_line,
                    f"question '{question_id}' has no option '{answer_id(value)}' "
                    f"(options: {allowed})",
                    path,
                )


def check_phase_loops(phases: list[Phase], guide_path: str, error: Report) -> None:
    """Report phases that end by themselves and lead, through `next`, back to themselves."""
    by_id = {p.id: p for p in phases}
    for start in phases:
        seen, current = {start.id}, start
        while current.next and current.next in by_id:
            current = by_id[current.next]
            if current.id in seen:
                error(1, f"phases that end by themselves loop back to '{start.id}'", guide_path)
                return
            seen.add(current.id)
