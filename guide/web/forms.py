"""Forms: reading question answers from a submission, showing errors at their fields, ending a post."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

from flask import flash, redirect
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from guide.content.model import Question, QuestionType
from guide.errors import GuideError, say
from guide.extensions import db


def finish_post(message: str, to: str) -> ResponseReturnValue:
    """Commit what the form post changed, say so on the next page and send the browser there."""
    db.session.commit()
    flash(message, "success")
    return redirect(to)


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


def shown_again(questions: Iterable[Question], raw: dict[str, Any]) -> dict[str, Any]:
    """Return submitted answers as a form shows them again after a mistake (a scale as a number).

    The form's fields compare a scale's answer with the numbers 1 to 5; the form sent
    the text "4".
    """
    values = dict(raw)
    for question in questions:
        value = values.get(question.id)
        if question.type is QuestionType.SCALE and isinstance(value, str) and value.isdigit():
            values[question.id] = int(value)
    return values


class FieldErrors(dict[str, str]):
    """The errors of one form submission by field name: what the page shows beside each field.

    `codes` keeps each domain error's stable code by field, for a page that offers
    a way on (a used card's code links to the login page).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes: dict[str, str] = {}

    def collect(self, prefix: str = "") -> _Collect:
        """Show a domain error about one of the form's fields at that field.

        Any other error goes on to the page handler (guide.web.errors), which shows
        its sentence. The session is rolled back either way.
        """
        return _Collect(self, prefix)


class _Collect:
    """The context manager of FieldErrors.collect: it swallows only errors about a field."""

    def __init__(self, errors: FieldErrors, prefix: str) -> None:
        self.errors = errors
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(error, GuideError) and error.field is not None:
            db.session.rollback()
            self.errors[f"{self.prefix}{error.field}"] = say(error.message, gettext)
            self.errors.codes[f"{self.prefix}{error.field}"] = error.code
            return True
        return False
