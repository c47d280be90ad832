"""Decide what falls due for one enrolment at one moment (SPEC §5).

The planner is pure: it takes a guide, an enrolment's state and `now`, and returns a
`Plan` saying which phase changes happened by themselves, which modules and check-ins
are due now, and when the next thing falls due. No clock, database or Flask in here;
every moment it knows of is passed in, so tests and simulations can use any `now`.

All moments are compared and returned in UTC, because aware datetimes that share a
`ZoneInfo` compare by wall clock and would misorder the hour repeated in October.
Calendar arithmetic ("7d") is done on the relative's local dates instead.

Dates the relative gives (a `date` question) can anchor modules, check-ins and phases;
`scheduler/anchors.py` resolves them. A phase with `at` has a schedule that counts from
the day it was due to start, even when the relative arrived later, so a relative who
enrols 40 days after the date starts in the phase the date implies and gets the rest
on the real dates. What fell due before the day the relative enrolled is the backlog
and is never released (SPEC §5, "not everything at once"), except opening modules
(`0d`), which come the moment the relative is in their phase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from guide.content.model import Answers, Checkin, Duration, Guide, Module, PhaseStart
from scheduler.anchors import anchor_moment

DEFAULT_TIMEZONE = "Europe/Stockholm"
DEFAULT_PREFERRED_HOUR = 9
PREFERRED_HOURS = range(8, 21)

# Quiet hours run from 21:00 to 08:00; exact ("Nh") times inside them wait for 08:00.
QUIET_FROM = 21
QUIET_UNTIL = 8

# How many future phase visits `next_module_at` looks through when the current phase
# has nothing more to release; guides have a handful of phases, so this is generous.
LOOKAHEAD_VISITS = 50


@dataclass(frozen=True)
class PhaseVisit:
    """One stay in a phase, from the moment it started."""

    phase: str
    started_at: datetime


@dataclass(frozen=True, kw_only=True)
class EnrolmentState:
    """What the planner needs to know about one relative in one guide."""

    activated_at: datetime
    phase_history: tuple[PhaseVisit, ...]  # in order; the last one is the current phase
    timezone: str = DEFAULT_TIMEZONE
    preferred_hour: int = DEFAULT_PREFERRED_HOUR
    profile: Answers = field(default_factory=lambda: MappingProxyType({}))
    answers: Answers = field(default_factory=lambda: MappingProxyType({}))  # latest, by question
    released: frozenset[str] = frozenset()  # module ids ever released
    muted: frozenset[str] = frozenset()  # module or phase ids
    checkins_opened: Mapping[str, datetime] = field(
        default_factory=lambda: MappingProxyType({})
    )  # check-in id -> due time of the newest occurrence opened so far
    last_email_on: date | None = None  # local date of the last scheduled e-mail

    def __post_init__(self) -> None:
        _as_utc(self.activated_at, "activated_at")
        if not self.phase_history:
            raise ValueError(
                "An enrolment needs at least one phase visit; start it with "
                "EnrolmentState.enrol(...) or give phase_history its first phase."
            )
        for visit in self.phase_history:
            _as_utc(visit.started_at, f"the start of phase '{visit.phase}'")
        _check_preferred_hour(self.preferred_hour)
        _zone(self.timezone)
        # Copy the mappings so that a caller mutating its dict cannot change the state.
        for name in ("profile", "answers", "checkins_opened"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @classmethod
    def enrol(cls, activated_at: datetime, phase: str, **details: object) -> EnrolmentState:
        """Return the state of an enrolment that starts in `phase` at `activated_at`."""
        return cls(
            activated_at=activated_at,
            phase_history=(PhaseVisit(phase, activated_at),),
            **details,  # type: ignore[arg-type]
        )

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    @property
    def current_visit(self) -> PhaseVisit:
        return self.phase_history[-1]

    @property
    def all_answers(self) -> Answers:
        """Profile and check-in answers together; a check-in answer wins over the profile."""
        return MappingProxyType({**self.profile, **self.answers})

    def local_date(self, moment: datetime) -> date:
        """Return the relative's local calendar date at `moment`."""
        return _as_utc(moment, "moment").astimezone(self.zone).date()

    def anchor(self, source: str | None) -> datetime:
        """Return the moment a span `from: source` counts from (see scheduler/anchors.py)."""
        return anchor_moment(source, self.all_answers, self.activated_at, self.zone)

    @property
    def backlog_before(self) -> datetime:
        """Return the start of the local day of activation: what fell due before is backlog."""
        return _at_midnight(self.local_date(self.activated_at), self.zone)


@dataclass(frozen=True)
class DueModule:
    module_id: str
    due_at: datetime  # when it fell due by the schedule, in UTC


@dataclass(frozen=True)
class DueCheckin:
    checkin_id: str
    due_at: datetime  # the occurrence being opened, in UTC


@dataclass(frozen=True)
class Plan:
    """What the planner decided for one enrolment at one moment."""

    phase_changes: tuple[PhaseVisit, ...]  # automatic transitions, each at its due time
    releases: tuple[DueModule, ...]  # sorted by (due_at, order, id)
    checkins: tuple[DueCheckin, ...]  # the newest due occurrence of each check-in
    next_due_at: datetime | None  # the next moment anything falls due; None: never
    next_module_at: datetime | None  # the next scheduled module release, for the relative

    @property
    def sends_email(self) -> bool:
        """Whether the plan releases or opens anything, which goes out as one e-mail."""
        return bool(self.releases or self.checkins)


def due_time(
    anchor: datetime,
    offset: Duration,
    tz: tzinfo,
    preferred_hour: int = DEFAULT_PREFERRED_HOUR,
) -> datetime:
    """Return when something `offset` after `anchor` falls due, in UTC.

    Days and weeks count the relative's local calendar days in `tz` and land on
    `preferred_hour`, whatever the clock time of the anchor and across daylight-saving
    changes. Hours are exact but leave quiet hours (21:00-08:00) for the next 08:00.
    A zero offset is the anchor itself: "at once".
    """
    _check_preferred_hour(preferred_hour)
    anchor = _as_utc(anchor, "anchor")
    if offset.amount == 0:
        return anchor
    if offset.is_hours:
        return _outside_quiet_hours(anchor + timedelta(hours=offset.amount), tz)
    return _at_hour(anchor.astimezone(tz).date() + timedelta(days=offset.days), preferred_hour, tz)


def plan(guide: Guide, state: EnrolmentState, now: datetime) -> Plan:
    """Plan what is due for `state` in `guide` at `now`, and when the next thing is."""
    now = _as_utc(now, "now")
    stays = _stays_until(guide, state, now)
    current = stays[-1]
    candidates = [
        *_module_candidates(guide, state, stays),
        *_checkin_candidates(guide, state, current, now),
    ]

    tz = state.zone
    today = now.astimezone(tz).date()
    tomorrow = _at_hour(today + timedelta(days=1), state.preferred_hour, tz)
    emailed_today = state.last_email_on == today

    # At most one scheduled e-mail a day: once today's has gone, what is due waits for
    # tomorrow's. "At once" items (0d) are the exception: they answer the relative's
    # own action (redeeming a card, a phase change) and the SPEC wants them there then.
    due_now: list[_Candidate] = []
    not_yet: list[_Candidate] = []
    for candidate in candidates:
        sendable = candidate.at_once or not emailed_today
        (due_now if candidate.due_at <= now and sendable else not_yet).append(candidate)
    due_now.sort(key=_Candidate.sort_key)
    one_email_today = emailed_today or bool(due_now)

    def mailed_at(candidate: _Candidate) -> datetime:
        if one_email_today and not candidate.at_once and candidate.local_date(tz) <= today:
            return tomorrow
        return candidate.due_at

    later = [(mailed_at(c), c) for c in not_yet]
    upcoming = [at for at, _ in later]
    if current.ends_at is not None:
        upcoming.append(current.ends_at)
    next_module_at = min((at for at, c in later if c.kind == "module"), default=None)
    if next_module_at is None:
        next_module_at = _next_module_after(guide, state, current, mailed_at)

    return Plan(
        phase_changes=tuple(stay.visit for stay in stays[1:]),
        releases=tuple(DueModule(c.id, c.due_at) for c in due_now if c.kind == "module"),
        checkins=tuple(DueCheckin(c.id, c.due_at) for c in due_now if c.kind == "checkin"),
        next_due_at=min(upcoming, default=None),
        next_module_at=next_module_at,
    )


def apply_plan(state: EnrolmentState, plan: Plan, now: datetime) -> EnrolmentState:
    """Return `state` as it is once `plan` has been carried out at `now`."""
    opened = dict(state.checkins_opened)
    for checkin in plan.checkins:
        opened[checkin.checkin_id] = checkin.due_at
    return replace(
        state,
        phase_history=state.phase_history + plan.phase_changes,
        released=state.released | {module.module_id for module in plan.releases},
        checkins_opened=opened,
        last_email_on=state.local_date(now) if plan.sends_email else state.last_email_on,
    )


def is_scheduled(module: Module) -> bool:
    """Return whether `module` has a schedule; on-demand modules only come by a rule."""
    return not module.release.on_demand and module.release.after is not None


@dataclass(frozen=True)
class _Stay:
    """A phase visit and when it ends by itself (None: it does not).

    `schedule_from` is what the phase's own schedule counts from: the visit's start, or
    the moment a phase with `at` was due to start if that came earlier.
    """

    visit: PhaseVisit
    ends_at: datetime | None
    schedule_from: datetime


@dataclass(frozen=True)
class _Candidate:
    kind: Literal["module", "checkin"]
    id: str
    due_at: datetime
    order: int = 0
    at_once: bool = False  # a zero offset: due the moment its anchor happened

    def sort_key(self) -> tuple[datetime, int, str]:
        return (self.due_at, self.order, self.id)

    def local_date(self, tz: tzinfo) -> date:
        return self.due_at.astimezone(tz).date()


def _stays_until(guide: Guide, state: EnrolmentState, now: datetime) -> list[_Stay]:
    """Follow the current phase and the phases that followed it by themselves until now."""
    first = state.current_visit
    # A visit cannot start before the enrolment exists; a card saying "started three
    # months ago" must not pull three months of that phase's modules forward.
    visit = PhaseVisit(
        first.phase,
        max(_as_utc(first.started_at, "phase start"), _as_utc(state.activated_at, "activated_at")),
    )
    stays: list[_Stay] = []
    instant_in_a_row = 0
    while True:
        stay = _stay(guide, state, visit)
        ends_at = stay.ends_at
        stays.append(stay)
        if ends_at is None or ends_at > now:
            return stays
        instant_in_a_row = instant_in_a_row + 1 if ends_at == visit.started_at else 0
        if instant_in_a_row > len(guide.phases):
            raise ValueError(
                f"The phases of guide '{guide.id}' pass each other on in a loop without "
                f"any time passing (at phase '{visit.phase}'); give one of them a "
                "duration above 0."
            )
        visit = PhaseVisit(guide.phase(visit.phase).next, ends_at)  # type: ignore[arg-type]


def _stay(guide: Guide, state: EnrolmentState, visit: PhaseVisit) -> _Stay:
    """Return `visit` with what its schedule counts from and when it ends by itself."""
    if not guide.has_phase(visit.phase):
        # The phase was removed from the content after the relative reached it.
        return _Stay(visit, None, visit.started_at)
    phase = guide.phase(visit.phase)
    schedule_from = visit.started_at
    if phase.at is not None:
        schedule_from = min(visit.started_at, _phase_start(phase.at, state))
    ends_at = None
    if phase.next is not None and guide.has_phase(phase.next):
        following = guide.phase(phase.next).at
        if following is not None:
            # Never before the visit began: a date far back passes through at once.
            ends_at = max(_phase_start(following, state), visit.started_at)
        elif phase.duration is not None:
            ends_at = max(
                due_time(schedule_from, phase.duration, state.zone, state.preferred_hour),
                visit.started_at,
            )
    return _Stay(visit, ends_at, schedule_from)


def _phase_start(start: PhaseStart, state: EnrolmentState) -> datetime:
    """Return when a phase with `at` is due to start by the relative's date."""
    return due_time(state.anchor(start.source), start.after, state.zone, state.preferred_hour)


def _module_candidates(
    guide: Guide, state: EnrolmentState, stays: list[_Stay]
) -> Iterable[_Candidate]:
    """Yield each module that can still be released with the moment it falls due."""
    answers = state.all_answers
    for module in guide.modules:
        if not _may_be_released(module, state, answers):
            continue
        for stay in stays:
            due = _module_due_in(module, stay, state)
            if due is not None:
                yield _Candidate(
                    "module",
                    module.id,
                    due,
                    order=module.order,
                    at_once=module.release.after.amount == 0,  # type: ignore[union-attr]
                )
                break


def _may_be_released(module: Module, state: EnrolmentState, answers: Answers) -> bool:
    return (
        is_scheduled(module)
        and module.id not in state.released
        and module.id not in state.muted
        and module.when.holds(answers)
    )


def _module_due_in(module: Module, stay: _Stay, state: EnrolmentState) -> datetime | None:
    """Return when `module` falls due during `stay`, or None if it does not."""
    phase = stay.visit.phase
    if phase not in module.phases or phase in state.muted:
        return None
    after: Duration = module.release.after  # type: ignore[assignment]
    release = module.release
    if release.anchor == "phase":
        anchor = stay.schedule_from
    else:
        anchor = state.anchor(release.date_question if release.anchor == "date" else None)
    scheduled = due_time(anchor, after, state.zone, state.preferred_hour)
    if after.amount != 0 and scheduled < state.backlog_before:
        return None  # due before the relative enrolled: the backlog stays in the library
    # Released only in its phase: if the time came before the phase did, it falls due
    # the moment the phase starts.
    due = max(scheduled, stay.visit.started_at)
    if stay.ends_at is not None and due >= stay.ends_at:
        return None
    return due


def _checkin_candidates(
    guide: Guide, state: EnrolmentState, current: _Stay, now: datetime
) -> Iterable[_Candidate]:
    """Yield the newest unopened due occurrence and the next occurrence of each check-in."""
    for checkin in guide.checkins:
        if checkin.after == "phase_start":
            # A phase-bound check-in belongs to the current visit of its phase only.
            if checkin.phase != current.visit.phase or checkin.phase in state.muted:
                continue
            anchor, ends_at = current.schedule_from, current.ends_at
            opens_from = current.visit.started_at
        else:
            anchor, ends_at = state.anchor(checkin.date_question), None
            opens_from = _as_utc(state.activated_at, "activated_at")
        newest, following = _occurrences_around(checkin, anchor, now, state)
        at_once = newest == anchor and checkin.first.amount == 0
        if newest is not None and at_once:
            newest = max(newest, opens_from)
        elif newest is not None and newest < state.backlog_before:
            newest = None  # an occurrence before the relative enrolled is never opened
        opened = state.checkins_opened.get(checkin.id)
        if newest is not None and (opened is None or newest > _as_utc(opened, checkin.id)):
            yield _Candidate("checkin", checkin.id, newest, at_once=at_once)
        if following is not None and (ends_at is None or following < ends_at):
            yield _Candidate("checkin", checkin.id, following)


def _occurrences_around(
    checkin: Checkin, anchor: datetime, now: datetime, state: EnrolmentState
) -> tuple[datetime | None, datetime | None]:
    """Return the newest occurrence at or before `now` and the first one after it."""
    tz, hour = state.zone, state.preferred_hour
    first = due_time(anchor, checkin.first, tz, hour)
    every = checkin.every
    if every is None or every.amount == 0:
        return (first, None) if first <= now else (None, first)
    if first > now:
        return None, first

    def occurrence(k: int) -> datetime:
        return due_time(first, Duration(every.amount * k, every.unit), tz, hour) if k else first

    # Estimate the count from the elapsed time, then step to the exact one: quiet
    # hours can push an hourly occurrence past `now`.
    if every.is_hours:
        k = int((now - first) / timedelta(hours=every.amount))
    else:
        k = (now.astimezone(tz).date() - first.astimezone(tz).date()).days // every.days
    while k > 0 and occurrence(k) > now:
        k -= 1
    while occurrence(k + 1) <= now:
        k += 1
    return occurrence(k), occurrence(k + 1)


def _next_module_after(
    guide: Guide,
    state: EnrolmentState,
    current: _Stay,
    mailed_at: Callable[[_Candidate], datetime],
) -> datetime | None:
    """Return the first module release in the phases the current one leads to by itself."""
    answers = state.all_answers
    modules = [module for module in guide.modules if _may_be_released(module, state, answers)]
    stay = current
    for _ in range(LOOKAHEAD_VISITS):
        if stay.ends_at is None:
            return None
        visit = PhaseVisit(guide.phase(stay.visit.phase).next, stay.ends_at)  # type: ignore[arg-type]
        stay = _stay(guide, state, visit)
        found = []
        for module in modules:
            due = _module_due_in(module, stay, state)
            if due is not None:
                found.append(
                    _Candidate("module", module.id, due, at_once=module.release.after.amount == 0)  # type: ignore[union-attr]
                )
        if found:
            return min(mailed_at(candidate) for candidate in found)
    return None


def _at_hour(day: date, hour: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def _at_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _outside_quiet_hours(moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    if local.hour >= QUIET_FROM:
        return _at_hour(local.date() + timedelta(days=1), QUIET_UNTIL, tz)
    if local.hour < QUIET_UNTIL:
        return _at_hour(local.date(), QUIET_UNTIL, tz)
    return moment


def _as_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{what} is {moment.isoformat()} without a time zone; pass an aware "
            "datetime, for example datetime.now(UTC)."
        )
    return moment.astimezone(UTC)


def _check_preferred_hour(hour: int) -> None:
    if hour not in PREFERRED_HOURS:
        raise ValueError(
            f"The preferred hour {hour} is outside 8-20; choose an hour between 08:00 and 20:00."
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{name}' is not a known time zone; use an IANA name such as Europe/Stockholm."
        ) from None
