"""Check a relative's answers to profile and check-in questions; every question may be skipped."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from guide.content.model import SCALE_RANGE, Question, QuestionType
from guide.errors import N_, GuideError

MAX_TEXT = 2000
EARLIEST_DATE = date(1900, 1, 1)

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("januari", "jan"),
            ("februari", "feb"),
            ("mars", "mar"),
            ("april", "apr"),
            ("maj",),
            ("juni", "jun"),
            ("juli", "jul"),
            ("augusti", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# 2026-02-03, 2026-2-3, 2026/02/03, 20260203
_YEAR_FIRST_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YEAR_FIRST_SEPARATED = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
# 3/2 2026, 3/2-2026, 3/2/2026, 3.2.2026
_DAY_FIRST = re.compile(r"(\d{1,2})[/.](\d{1,2})(?:[ ./-]+)(\d{4})")
# 3 februari 2026, den 3 feb. 2026
_DAY_MONTH_NAME = re.compile(r"(?:den\s+)?(\d{1,2})\s*([a-zåäö]+)\.?\s+(\d{4})")


class AnswerError(GuideError):
    """An answer that does not fit its question; `field` is the question's id."""

    def __init__(self, message: str, question: str) -> None:
        super().__init__("answer_invalid", message, field=question)

    @classmethod
    def unknown_question(cls, name: str) -> AnswerError:
        return cls(N_("Frågan '%(name)s' finns inte.", name=name), name)

    @classmethod
    def too_long(cls, question: str, most: int) -> AnswerError:
        return cls(N_("Svaret får vara högst %(most)s tecken.", most=most), question)

    @classmethod
    def scale(cls, question: str) -> AnswerError:
        return cls(N_("Välj ett värde från 1 till 5."), question)

    @classmethod
    def yes_no(cls, question: str) -> AnswerError:
        return cls(N_("Svara ja eller nej."), question)

    @classmethod
    def choices(cls, question: str) -> AnswerError:
        return cls(N_("Välj bland alternativen som visas."), question)

    @classmethod
    def choice(cls, question: str) -> AnswerError:
        return cls(N_("Välj ett av alternativen som visas."), question)

    @classmethod
    def date(cls, question: str) -> AnswerError:
        return cls(
            N_(
                "Skriv datumet som år-månad-dag, till exempel 2026-02-03, eller som 3 februari 2026."
            ),
            question,
        )

    @classmethod
    def date_in_future(cls, question: str) -> AnswerError:
        return cls(
            N_("Datumet ligger efter i dag. Skriv dagens datum eller ett tidigare datum."), question
        )

    @classmethod
    def date_too_early(cls, question: str) -> AnswerError:
        return cls(N_("Skriv ett datum efter år 1900."), question)


def parse_date(raw: str) -> date | None:
    """Read a date as people in Sweden write it; None if it is not one.

    Year first (2026-02-03, 2026-2-3, 2026/02/03, 20260203), day first with the month
    as a number (3/2 2026, 3/2-2026, 3.2.2026) or by name (3 februari 2026, 3 feb. 2026).
    """
    text = " ".join(raw.strip().lower().split())
    match = _YEAR_FIRST_SEPARATED.fullmatch(text) or _YEAR_FIRST_COMPACT.fullmatch(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return _date_or_none(year, month, day)
    match = _DAY_FIRST.fullmatch(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return _date_or_none(year, month, day)
    match = _DAY_MONTH_NAME.fullmatch(text)
    if match and match.group(2) in MONTHS:
        return _date_or_none(int(match.group(3)), MONTHS[match.group(2)], int(match.group(1)))
    return None


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def clean_answers(
    questions: Iterable[Question], raw: Mapping[str, Any], *, today: date
) -> dict[str, Any]:
    """Return the answers in stored form; empty answers are skipped, wrong ones raise.

    Stored form: choice and yes_no as the option id ("yes"/"no"), scale as an int,
    text as a stripped string, multi as a sorted list of option ids, a date as
    "YYYY-MM-DD". `today` is the relative's local date: a date after it is refused
    unless the question allows the future.
    """
    by_id = {q.id: q for q in questions}
    unknown = set(raw) - set(by_id)
    if unknown:
        name = sorted(unknown)[0]
        raise AnswerError.unknown_question(name)
    cleaned: dict[str, Any] = {}
    for question_id, value in raw.items():
        answer = _clean_one(by_id[question_id], value, today)
        if answer is not None:
            cleaned[question_id] = answer
    return cleaned


def _clean_one(question: Question, value: Any, today: date) -> Any:
    if value is None or value == "" or value == []:
        return None
    kind = question.type
    if kind is QuestionType.DATE:
        return _clean_date(question, value, today)
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


def _clean_date(question: Question, value: Any, today: date) -> str | None:
    if not isinstance(value, str):
        raise AnswerError.date(question.id)
    if not value.strip():
        return None
    day = parse_date(value)
    if day is None:
        raise AnswerError.date(question.id)
    if day > today and not question.allow_future:
        raise AnswerError.date_in_future(question.id)
    if day < EARLIEST_DATE:
        raise AnswerError.date_too_early(question.id)
    return day.isoformat()
