"""Typed, immutable objects for a content library: guides, phases, modules, check-ins.

The loader builds these from files; the release engine and every page use only
these. Nothing here reads files, touches a database or knows about Flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, Literal, Protocol, TypeVar

# An answer as stored and compared: a choice or yes_no is its option id ("yes"/"no"
# for yes_no), a scale is an int 1..5, a text is a str, a multi is a frozenset of ids,
# a date is its ISO form "YYYY-MM-DD" (a local calendar date).
AnswerValue = str | int | frozenset[str]
Answers = Mapping[str, AnswerValue]


class Localised(str):
    """A text that knows its language: the one asked for, or the fallback it fell back to.

    It is an ordinary `str`, so everything that reads text reads it as before; a page
    marks it `lang="sv"` where it stands when that differs from the page's language.
    """

    language: str

    def __new__(cls, value: str, language: str = "") -> Localised:
        self = super().__new__(cls, value)
        self.language = language
        return self

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return (str(self), self.language)


@dataclass(frozen=True)
class Text:
    """A short text in several languages; the first language is the fallback."""

    values: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, **values: str) -> Text:
        return cls(tuple(values.items()))

    def get(self, language: str, fallback: str | None = None) -> Localised:
        """Return the text in `language`, else in `fallback`, else the first one.

        The answer carries the language it is in (`Localised.language`).
        """
        as_dict = dict(self.values)
        if language in as_dict:
            return Localised(as_dict[language], language)
        if fallback is not None and fallback in as_dict:
            return Localised(as_dict[fallback], fallback)
        return Localised(self.values[0][1], self.values[0][0]) if self.values else Localised("")

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(language for language, _ in self.values)


_DURATION = re.compile(r"^(\d+)([dwh])$")


@dataclass(frozen=True)
class Duration:
    """A span written `Nd`, `Nw` or `Nh`: calendar days, weeks, or exact hours."""

    amount: int
    unit: Literal["d", "w", "h"]

    @classmethod
    def parse(cls, raw: str) -> Duration:
        match = _DURATION.match(raw.strip())
        if not match:
            raise ValueError(f"'{raw}' is not a duration; write it like 7d, 2w or 12h")
        return cls(int(match.group(1)), match.group(2))  # type: ignore[arg-type]

    @property
    def is_hours(self) -> bool:
        return self.unit == "h"

    @property
    def days(self) -> int:
        """Calendar days; hours count as 0 whole days."""
        if self.unit == "w":
            return self.amount * 7
        if self.unit == "d":
            return self.amount
        return 0

    @property
    def hours(self) -> int:
        return self.amount if self.unit == "h" else self.days * 24

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


class QuestionType(StrEnum):
    CHOICE = "choice"
    MULTI = "multi"
    YES_NO = "yes_no"
    SCALE = "scale"
    TEXT = "text"
    DATE = "date"  # a local calendar date, stored as "YYYY-MM-DD"


@dataclass(frozen=True)
class Option:
    id: str
    text: Text


YES_NO_OPTIONS = ("yes", "no")
SCALE_RANGE = range(1, 6)


@dataclass(frozen=True)
class Question:
    """A profile or check-in question; every one is optional to answer."""

    id: str
    type: QuestionType
    text: Text
    options: tuple[Option, ...] = ()
    allow_future: bool = False  # a date question: whether a date after today may be given

    @property
    def option_ids(self) -> tuple[str, ...]:
        if self.type is QuestionType.YES_NO:
            return YES_NO_OPTIONS
        if self.type is QuestionType.SCALE:
            return tuple(str(n) for n in SCALE_RANGE)
        return tuple(option.id for option in self.options)


@dataclass(frozen=True)
class Condition:
    """One field of a `when`: the answer must be one of `accepted`, or within bounds."""

    question: str
    accepted: tuple[str, ...] = ()
    lte: int | None = None
    gte: int | None = None

    def holds(self, answers: Answers) -> bool:
        """Return whether the answer to this condition's question satisfies it."""
        if self.question not in answers:
            return False
        answer = answers[self.question]
        if self.lte is not None or self.gte is not None:
            if not isinstance(answer, int):
                return False
            low_ok = self.gte is None or answer >= self.gte
            high_ok = self.lte is None or answer <= self.lte
            return low_ok and high_ok
        if isinstance(answer, frozenset):
            return any(value in answer for value in self.accepted)
        return str(answer) in self.accepted


@dataclass(frozen=True)
class When:
    """All conditions must hold; an empty `When` always holds."""

    conditions: tuple[Condition, ...] = ()

    def holds(self, answers: Answers) -> bool:
        return all(condition.holds(answers) for condition in self.conditions)

    def __bool__(self) -> bool:
        return bool(self.conditions)


@dataclass(frozen=True)
class ReleaseModule:
    kind: ClassVar[Literal["release"]] = "release"
    module: str


@dataclass(frozen=True)
class SetPhase:
    kind: ClassVar[Literal["phase"]] = "phase"
    phase: str


@dataclass(frozen=True)
class RaiseAlert:
    kind: ClassVar[Literal["alert"]] = "alert"
    priority: Literal["normal", "urgent"]
    reason: Text


@dataclass(frozen=True)
class Mute:
    kind: ClassVar[Literal["mute"]] = "mute"
    target: str  # a module id or a phase id


@dataclass(frozen=True)
class ShowCrisis:
    """Show the guide's crisis text at once and raise an urgent alert."""

    kind: ClassVar[Literal["crisis"]] = "crisis"


# What a rule does. The same words name what an answer changed: the rules return the
# actions that took effect, and the API lists them by `kind`.
Action = ReleaseModule | SetPhase | RaiseAlert | Mute | ShowCrisis


@dataclass(frozen=True)
class Rule:
    when: When
    then: tuple[Action, ...]


# The anchor a span counts from when it names no date question, and the one a date
# anchor falls back to when the relative skipped the date (scheduler/anchors.py).
ACTIVATION = "activation"


@dataclass(frozen=True)
class PhaseStart:
    """When a phase starts by itself: `after` a date the relative gave (`at:` in guide.yaml).

    `source` is the id of a `date` question, or "activation"; a skipped date counts
    from activation.
    """

    after: Duration
    source: str


@dataclass(frozen=True)
class Phase:
    """A stage of the journey.

    It ends by itself after `duration`, or, when the phase it leads to (`next`) has
    an `at`, when that one starts.
    """

    id: str
    title: Text
    duration: Duration | None = None
    next: str | None = None
    at: PhaseStart | None = None


@dataclass(frozen=True)
class Checkin:
    """A recurring or one-off questionnaire.

    `first` counts from activation, from the start of `phase` when
    `after == "phase_start"` (a phase-bound check-in opens only in its phase), or from
    the answer to the date question `date_question` when `after == "date"` (activation
    when the date was skipped).
    """

    id: str
    title: Text
    first: Duration
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...] = ()
    after: Literal["activation", "phase_start", "date"] = "activation"
    phase: str | None = None
    every: Duration | None = None
    date_question: str | None = None  # with after == "date"


@dataclass(frozen=True)
class ReleaseSpec:
    """When a module falls due: `after` its anchor, or only when a rule releases it.

    The anchor is the start of the phase, activation, or (`anchor == "date"`) the
    relative's answer to the date question `date_question`, activation when skipped.
    """

    after: Duration | None
    anchor: Literal["phase", "activation", "date"] = "phase"
    on_demand: bool = False
    date_question: str | None = None  # with anchor == "date"


@dataclass(frozen=True)
class Followup:
    """A call staff of the issuing unit should make: `after` its anchor, done `within`.

    The anchor is activation, the start of `phase` (its first visit) when `phase` is
    set, or the relative's answer to `date_question` (activation when skipped). `when` narrows it to relatives whose answers hold.
    """

    id: str
    after: Duration
    within: Duration
    reason: Text
    phase: str | None = None
    when: When = When()
    date_question: str | None = None  # counts from the relative's answer (else activation)


@dataclass(frozen=True)
class Need:
    id: str
    text: Text


@dataclass(frozen=True)
class ModuleText:
    """The language-specific part of a module: the original or a translation."""

    language: str
    title: str
    summary: str
    body: str
    needs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Module:
    id: str
    guide: str
    phases: tuple[str, ...]
    release: ReleaseSpec
    texts: Mapping[str, ModuleText]  # language -> text; the original language first
    when: When = When()
    order: int = 0
    needs: tuple[Need, ...] = ()
    sources: tuple[str, ...] = ()
    path: str = ""
    content_hash: str = ""

    @property
    def original(self) -> ModuleText:
        return next(iter(self.texts.values()))

    def text(self, language: str) -> ModuleText:
        """Return the module in `language`, falling back to the original."""
        return self.texts.get(language, self.original)

    @property
    def title(self) -> Text:
        return Text(tuple((lang, t.title) for lang, t in self.texts.items()))

    @property
    def summary(self) -> Text:
        return Text(tuple((lang, t.summary) for lang, t in self.texts.items()))


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_Item = TypeVar("_Item", bound=_HasId)


@dataclass(frozen=True)
class Guide:
    id: str
    title: Text
    summary: Text
    languages: tuple[str, ...]
    phases: tuple[Phase, ...]
    modules: tuple[Module, ...]
    profile: tuple[Question, ...] = ()
    checkins: tuple[Checkin, ...] = ()
    sensitive: bool = False
    crisis: Text | None = None
    followups: tuple[Followup, ...] = ()

    def _one(self, items: tuple[_Item, ...], wanted: str, kind: str) -> _Item:
        """Return the item with the id `wanted`; a KeyError names the guide and what is missing."""
        for item in items:
            if item.id == wanted:
                return item
        raise self._no_such(kind, wanted)

    def _no_such(self, kind: str, wanted: str) -> KeyError:
        return KeyError(f"Guide '{self.id}' has no {kind} '{wanted}'")

    def followup(self, followup_id: str) -> Followup:
        return self._one(self.followups, followup_id, "follow-up")

    def phase(self, phase_id: str) -> Phase:
        return self._one(self.phases, phase_id, "phase")

    def module(self, module_id: str) -> Module:
        return self._one(self.modules, module_id, "module")

    def checkin(self, checkin_id: str) -> Checkin:
        return self._one(self.checkins, checkin_id, "check-in")

    def has_module(self, module_id: str) -> bool:
        return any(module.id == module_id for module in self.modules)

    def has_phase(self, phase_id: str) -> bool:
        return any(phase.id == phase_id for phase in self.phases)

    def modules_in_phase(self, phase_id: str) -> Iterator[Module]:
        return (module for module in self.modules if phase_id in module.phases)

    def questions(self) -> Iterator[Question]:
        """Yield every profile and check-in question of the guide."""
        yield from self.profile
        for checkin in self.checkins:
            yield from checkin.questions

    @property
    def first_phase(self) -> Phase:
        return self.phases[0]

    @property
    def fallback_language(self) -> str:
        return self.languages[0]


@dataclass(frozen=True)
class LocalFact:
    key: str
    description: str
    fallback: str


@dataclass(frozen=True)
class Library:
    """Every guide and the declared local facts of one content folder."""

    guides: Mapping[str, Guide]
    local_facts: Mapping[str, LocalFact]

    def guide(self, guide_id: str) -> Guide:
        try:
            return self.guides[guide_id]
        except KeyError:
            raise KeyError(f"There is no guide '{guide_id}'") from None
