"""Fire a check-in's rules on an answer and say what they change (SPEC §4, §8).

Pure like the planner: it takes a guide, an enrolment's state, the answers and `now`,
and returns the new state with the effects in the order they happened. The journey
simulation and the database side (guide/checkins.py) both call it, so a rule means
the same thing in an editor's simulation as in a relative's journey.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from guide.content.model import (
    Action,
    Answers,
    Checkin,
    Guide,
    Mute,
    RaiseAlert,
    ReleaseModule,
    SetPhase,
    ShowCrisis,
)
from scheduler.planner import EnrolmentState, PhaseVisit


@dataclass(frozen=True)
class Answered:
    """The enrolment after an answer, and what the answer's rules changed, in order."""

    state: EnrolmentState
    effects: tuple[Action, ...]  # the rules' actions that took effect, in order

    @property
    def crisis(self) -> bool:
        return any(isinstance(effect, ShowCrisis) for effect in self.effects)


def rule_context(state: EnrolmentState, checkin: Checkin, answers: Answers) -> Answers:
    """Return the answers the rules of `checkin` are judged on.

    The check-in's own questions count only as answered now: a question skipped this
    time holds no answer, so last month's "yes, call me" does not raise a new alert.
    Other questions (the profile, other check-ins) count with their latest answer.
    """
    own = {question.id for question in checkin.questions}
    earlier = {key: value for key, value in state.all_answers.items() if key not in own}
    return MappingProxyType({**earlier, **answers})


def answer_checkin(
    guide: Guide,
    state: EnrolmentState,
    checkin: Checkin,
    answers: Answers,
    now: datetime,
) -> Answered:
    """Store `answers` in `state` and fire, in order, every rule of `checkin` that holds.

    Each action takes effect before the next one is looked at, so a rule that mutes a
    module stops a later rule from releasing it. Actions that would change nothing (a
    module released before, the phase the relative is already in, a target already
    muted) are left out of the effects; alerts and crisis are always kept.
    """
    given = dict(answers)
    context = rule_context(state, checkin, given)
    state = replace(state, answers={**state.answers, **given})
    effects: list[Action] = []
    for rule in checkin.rules:
        if not rule.when.holds(context):
            continue
        for action in rule.then:
            match action:
                case ReleaseModule(module=module_id):
                    # A rule release is still "never twice" and still respects a mute.
                    if (
                        guide.has_module(module_id)
                        and module_id not in state.released
                        and module_id not in state.muted
                    ):
                        state = replace(state, released=state.released | {module_id})
                        effects.append(action)
                case SetPhase(phase=phase_id):
                    # Already there: keep the visit so its schedule does not restart.
                    if guide.has_phase(phase_id) and state.current_visit.phase != phase_id:
                        visit = PhaseVisit(phase_id, now)
                        state = replace(state, phase_history=(*state.phase_history, visit))
                        effects.append(action)
                case Mute(target=target):
                    if target not in state.muted:
                        state = replace(state, muted=state.muted | {target})
                        effects.append(action)
                case RaiseAlert():
                    effects.append(action)
                case ShowCrisis():
                    effects.append(action)
    return Answered(state, tuple(effects))
