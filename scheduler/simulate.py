"""Walk one enrolment through its journey by carrying out the planner's plans.

The walk jumps from one `next_due_at` to the next instead of ticking a clock, so a
year of a relative's journey takes milliseconds. Tests use it to check whole
journeys; the editors' journey simulation uses it to show a guide's timeline, with
scripted check-in answers whose rules change the journey on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from guide.content.model import (
    Answers,
    Checkin,
    Guide,
    Mute,
    RaiseAlert,
    ReleaseModule,
    SetPhase,
    ShowCrisis,
)
from scheduler.planner import EnrolmentState, Plan, apply_plan, plan
from scheduler.rules import (
    answer_checkin,
)

EventKind = Literal["phase", "release", "checkin", "answer", "mute", "alert", "crisis"]

# Answers a simulated relative gives to a check-in the moment it opens; None: no answer.
Respond = Callable[[Checkin, datetime], Answers | None]


class JourneyEvent(NamedTuple):
    """One thing that happened to the enrolment; `at` is in UTC."""

    at: datetime
    kind: EventKind
    id: str  # the phase, module or check-in concerned


@dataclass(frozen=True)
class Journey:
    events: tuple[JourneyEvent, ...]
    state: EnrolmentState  # the enrolment as it stands at the end of the walk


def simulate(
    guide: Guide,
    state: EnrolmentState,
    until: datetime,
    *,
    start: datetime | None = None,
    respond: Respond | None = None,
) -> Journey:
    """Walk `state` through `guide` from `start` (default: activation) up to `until`.

    Each stop is the planner's `next_due_at`; the plan made there is carried out as the
    scheduler job would. If `respond` is given, it answers each check-in as it opens
    and the check-in's rules take effect at once.
    """
    moment = (start or state.activated_at).astimezone(UTC)
    until = until.astimezone(UTC)
    events: list[JourneyEvent] = []
    while moment <= until:
        decided = plan(guide, state, moment)
        state = apply_plan(state, decided, moment)
        events.extend(_events_of(decided, moment))
        answered = False
        for due in decided.checkins:
            checkin = guide.checkin(due.checkin_id)
            answers = respond(checkin, moment) if respond else None
            if answers is not None:
                state = _answer_checkin(guide, state, checkin, answers, moment, events)
                answered = True
        if answered:
            # Answers take effect at once: plan again at the same moment so that a new
            # phase's opening module is released now, not at the next stop.
            continue
        if decided.next_due_at is None:
            break
        moment = decided.next_due_at
    return Journey(tuple(events), state)


def _events_of(decided: Plan, moment: datetime) -> list[JourneyEvent]:
    return [
        *(JourneyEvent(visit.started_at, "phase", visit.phase) for visit in decided.phase_changes),
        *(JourneyEvent(moment, "release", due.module_id) for due in decided.releases),
        *(JourneyEvent(moment, "checkin", due.checkin_id) for due in decided.checkins),
    ]


def _answer_checkin(
    guide: Guide,
    state: EnrolmentState,
    checkin: Checkin,
    answers: Answers,
    moment: datetime,
    events: list[JourneyEvent],
) -> EnrolmentState:
    """Store `answers`, fire every rule of `checkin` that holds, and log what changed."""
    answered = answer_checkin(guide, state, checkin, answers, moment)
    events.append(JourneyEvent(moment, "answer", checkin.id))
    for effect in answered.effects:
        match effect:
            case ReleaseModule(module=module_id):
                events.append(JourneyEvent(moment, "release", module_id))
            case SetPhase(phase=phase_id):
                events.append(JourneyEvent(moment, "phase", phase_id))
            case Mute(target=target):
                events.append(JourneyEvent(moment, "mute", target))
            case RaiseAlert():
                events.append(JourneyEvent(moment, "alert", checkin.id))
            case ShowCrisis():
                events.append(JourneyEvent(moment, "crisis", checkin.id))
    return answered.state
