"""Reading question answers from a submitted form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.datastructures import MultiDict

from guide.content.model import Question, QuestionType


def answers_from_form(
    questions: Iterable[Question], form: MultiDict[str, str], prefix: str = "q"
) -> dict[str, Any]:
    """Collect the raw answers of `questions` from form fields named `<prefix>-<question id>`."""
    answers: dict[str, Any] = {}
    for question in questions:
        name = f"{prefix}-{question.id}"
        if question.type is QuestionType.MULTI:
            values = form.getlist(name)
            if values:
                answers[question.id] = values
        elif form.get(name, "").strip():
            answers[question.id] = form[name]
    return answers
