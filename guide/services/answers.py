"""Check a relative's answers to profile and check-in questions; every question may be skipped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from guide.content.model import SCALE_RANGE, Question, QuestionType
from guide.errors import N_, GuideError

MAX_TEXT = 2000


class AnswerError(GuideError):
    """An answer that does not fit its question; `field` is the question's id."""

    @classmethod
    def unknown_question(cls, name: str) -> AnswerError:
        return cls("answer_invalid", N_("Frågan '%(name)s' finns inte.", name=name), field=name)

    @classmethod
    def too_long(cls, question: str, most: int) -> AnswerError:
        return cls(
            "answer_invalid",
            N_("Svaret får vara högst %(most)s tecken.", most=most),
            field=question,
        )

    @classmethod
    def scale(cls, question: str) -> AnswerError:
        return cls("answer_invalid", N_("Välj ett värde från 1 till 5."), field=question)

    @classmethod
    def yes_no(cls, question: str) -> AnswerError:
        return cls("answer_invalid", N_("Svara ja eller nej."), field=question)

    @classmethod
    def choices(cls, question: str) -> AnswerError:
        return cls("answer_invalid", N_("Välj bland alternativen som visas."), field=question)

    @classmethod
    def choice(cls, question: str) -> AnswerError:
        return cls("answer_invalid", N_("Välj ett av alternativen som visas."), field=question)


def clean_answers(questions: Iterable[Question], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers in stored form; empty answers are skipped, wrong ones raise.

    Stored form: choice and yes_no as the option id ("yes"/"no"), scale as an int,
    text as a stripped string, multi as a sorted list of option ids.
    """
    by_id = {q.id: q for q in questions}
    unknown = set(raw) - set(by_id)
    if unknown:
        name = sorted(unknown)[0]
        raise AnswerError.unknown_question(name)
    cleaned: dict[str, Any] = {}
    for question_id, value in raw.items():
        answer = _clean_one(by_id[question_id], value)
        if answer is not None:
            cleaned[question_id] = answer
    return cleaned


def _clean_one(question: Question, value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    kind = question.type
    if kind is QuestionType.TEXT:
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise AnswerError.too_long(question.id, MAX_TEXT)
        return text or None
    if kind is QuestionType.SCALE:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number not in SCALE_RANGE:
            raise AnswerError.scale(question.id)
        return number
    if kind is QuestionType.YES_NO:
        if value is True or str(value).lower() in ("yes", "ja", "true"):
            return "yes"
        if value is False or str(value).lower() in ("no", "nej", "false"):
            return "no"
        raise AnswerError.yes_no(question.id)
    options = question.option_ids
    if kind is QuestionType.MULTI:
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        chosen = sorted({str(v) for v in values if v not in (None, "")})
        for option in chosen:
            if option not in options:
                raise AnswerError.choices(question.id)
        return chosen or None
    if str(value) not in options:
        raise AnswerError.choice(question.id)
    return str(value)
