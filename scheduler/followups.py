"""Decide when a guide's follow-up calls fall due for one enrolment, and their targets.

Pure like the planner: a guide, an enrolment's state, the follow-ups already handled
and `now` go in; what is due now and when the next one falls due come out. A call is
work for staff, so it keeps staff's hours rather than the relative's preferred hour:
"3d" after its anchor means 09:00 local on that calendar day, and a day that falls on
a Saturday or a Sunday moves to the Monday. Days are counted on local dates, so a
daylight-saving change neither moves the hour nor the day.

Catching up after an outage makes one case, not one per missed call: every call due
by `now` comes back together, and the caller puts them in one case. A call whose
target had already passed before it could be raised (the relative enrolled long after
its time, or the guide gained the call later) is `stale`: the caller records it as
missed instead of filling the queue with calls that are already late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from guide.content.model import Duration, Followup, Guide
from scheduler.anchors import anchor_moment
from scheduler.planner import EnrolmentState

WORKDAY_OPENS = 9  # a follow-up falls due at 09:00 local
WORKDAY_CLOSES = 17  # a target "within N days" ends at 17:00 local on that working day
SATURDAY = 5


@dataclass(frozen=True)
class DueFollowup:
    """A follow-up call that has fallen due and was not handled yet."""

    followup_id: str
    due_at: datetime  # UTC
    target_at: datetime  # UTC: staff should have made contact by then
    stale: bool  # the target passed before the call could be raised


@dataclass(frozen=True)
class FollowupPlan:
    """The follow-up calls due at one moment, and when the next one falls due."""

    due: tuple[DueFollowup, ...]  # sorted by (due_at, id)
    next_at: datetime | None  # the next call that falls due after now; None: none

    @property
    def calls(self) -> tuple[DueFollowup, ...]:
        """The due calls that still make a case (together, one case)."""
        return tuple(d for d in self.due if not d.stale)

    @property
    def missed(self) -> tuple[DueFollowup, ...]:
        return tuple(d for d in self.due if d.stale)


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY


def next_working_day(day: date) -> date:
    """Return `day` itself on a weekday, else the Monday after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_morning(day: date, tz: tzinfo) -> datetime:
    """Return 09:00 local on `day`, or on the Monday after a weekend day, in UTC."""
    return _at(next_working_day(day), WORKDAY_OPENS, tz)


def working_moment(moment: datetime, tz: tzinfo) -> datetime:
    """Return `moment` if it lies within working hours, else the next working morning."""
    moment = _utc(moment)
    local = moment.astimezone(tz)
    if is_working_day(local.date()) and WORKDAY_OPENS <= local.hour < WORKDAY_CLOSES:
        return moment
    if is_working_day(local.date()) and local.hour < WORKDAY_OPENS:
        return _at(local.date(), WORKDAY_OPENS, tz)
    return working_morning(local.date() + timedelta(days=1), tz)


def followup_due_time(anchor: datetime, after: Duration, tz: tzinfo) -> datetime:
    """Return when a call `after` its anchor falls due, in UTC.

    Days and weeks land at 09:00 local on that calendar day (a weekend day moves to
    Monday); `0d` is the anchor itself once working hours allow; hours are exact,
    moved to the next working moment.
    """
    anchor = _utc(anchor)
    if after.is_hours:
        return working_moment(anchor + timedelta(hours=after.amount), tz)
    if after.days == 0:
        return working_moment(anchor, tz)
    return working_morning(anchor.astimezone(tz).date() + timedelta(days=after.days), tz)


def target_time(start: datetime, within: Duration, tz: tzinfo) -> datetime:
    """Return the moment by which staff should have made contact, in UTC.

    `Nh` is exact. `Nd` ends at 17:00 local N calendar days after the working day the
    case came in (a weekend day moves to Monday); `0d` is the same working day.
    """
    start = _utc(start)
    if within.is_hours:
        return start + timedelta(hours=within.amount)
    came_in = working_moment(start, tz).astimezone(tz).date()
    return _at(next_working_day(came_in + timedelta(days=within.days)), WORKDAY_CLOSES, tz)


def followup_anchor(followup: Followup, state: EnrolmentState) -> datetime | None:
    """Return the moment a call counts from: activation, a date given, or its phase's start.

    A date counts from the start of that local day (scheduler/anchors.py), so a call
    `3d` after it comes at 09:00 three days later; a skipped date counts from activation.
    """
    if followup.date_question is not None:
        return anchor_moment(
            followup.date_question, state.all_answers, state.activated_at, state.zone
        )
    if followup.phase is None:
        return _utc(state.activated_at)
    for visit in state.phase_history:
        if visit.phase == followup.phase:
            return max(_utc(visit.started_at), _utc(state.activated_at))
    return None  # the relative has not reached that phase (yet)


def plan_followups(
    guide: Guide, state: EnrolmentState, handled: frozenset[str], now: datetime
) -> FollowupPlan:
    """Return the calls of `guide` due for `state` at `now` that are not `handled` yet."""
    now = _utc(now)
    tz = state.zone
    answers = state.all_answers
    due: list[DueFollowup] = []
    upcoming: list[datetime] = []
    for followup in guide.followups:
        if followup.id in handled or not followup.when.holds(answers):
            continue
        anchor = followup_anchor(followup, state)
        if anchor is None:
            continue
        due_at = followup_due_time(anchor, followup.after, tz)
        if due_at > now:
            upcoming.append(due_at)
            continue
        target_at = target_time(due_at, followup.within, tz)
        due.append(DueFollowup(followup.id, due_at, target_at, stale=target_at < now))
    due.sort(key=lambda d: (d.due_at, d.followup_id))
    return FollowupPlan(tuple(due), min(upcoming, default=None))


def earliest(*moments: datetime | None) -> datetime | None:
    """Return the earliest of the moments given, ignoring None."""
    known = [m for m in moments if m is not None]
    return min(known, default=None)


def _at(day: date, hour: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{moment.isoformat()} has no time zone; pass an aware datetime, "
            "for example datetime.now(UTC)."
        )
    return moment.astimezone(UTC)
