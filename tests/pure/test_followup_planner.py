"""Tests for the pure follow-up planner: staff's working mornings, weekends, DST, catch-up."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from guide.content.model import (
    Condition,
    Duration,
    Followup,
    Guide,
    Phase,
    Text,
    When,
)
from scheduler.followups import (
    followup_due_time,
    plan_followups,
    target_time,
    working_moment,
)
from scheduler.planner import EnrolmentState, PhaseVisit

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def shown(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(STOCKHOLM).strftime("%a %Y-%m-%d %H:%M")


def call(
    followup_id: str,
    after: str,
    within: str = "7d",
    phase: str | None = None,
    when: When | None = None,
) -> Followup:
    return Followup(
        followup_id,
        Duration.parse(after),
        Duration.parse(within),
        Text.of(sv=f"Samtal {followup_id}"),
        phase=phase,
        when=when or When(),
    )


def guide_with(*followups: Followup) -> Guide:
    phases = (
        Phase("utredning", Text.of(sv="Utredning")),
        Phase("tidig", Text.of(sv="Tidigt skede")),
    )
    return Guide(
        id="g",
        title=Text.of(sv="G"),
        summary=Text.of(sv="G"),
        languages=("sv",),
        phases=phases,
        modules=(),
        followups=followups,
    )


def enrolled(at: str, phase: str = "utredning", **details: object) -> EnrolmentState:
    return EnrolmentState.enrol(local(at), phase, **details)


def test_a_call_falls_due_at_nine_on_the_day_whatever_the_hour_of_activation() -> None:
    # Tuesday 22:40 + 3d = Friday, at staff's 09:00, not the relative's preferred hour.
    state = enrolled("2026-03-03 22:40", preferred_hour=19)
    due = followup_due_time(state.activated_at, Duration.parse("3d"), STOCKHOLM)
    assert shown(due) == "Fri 2026-03-06 09:00"


@pytest.mark.parametrize(
    ("activated", "after", "expected"),
    [
        ("2026-03-04 10:00", "3d", "Mon 2026-03-09 09:00"),  # Saturday -> Monday
        ("2026-03-05 10:00", "3d", "Mon 2026-03-09 09:00"),  # Sunday -> Monday
        ("2026-03-06 16:00", "1w", "Fri 2026-03-13 09:00"),
    ],
)
def test_a_call_due_on_a_weekend_comes_on_monday(activated: str, after: str, expected: str) -> None:
    assert shown(followup_due_time(local(activated), Duration.parse(after), STOCKHOLM)) == expected


def test_daylight_saving_changes_neither_the_day_nor_the_hour() -> None:
    # Spring forward on Sunday 29 March 2026, back on Sunday 25 October 2026.
    spring = followup_due_time(local("2026-03-27 09:30"), Duration.parse("3d"), STOCKHOLM)
    autumn = followup_due_time(local("2026-10-23 09:30"), Duration.parse("3d"), STOCKHOLM)
    assert shown(spring) == "Mon 2026-03-30 09:00"
    assert shown(autumn) == "Mon 2026-10-26 09:00"
    assert spring.astimezone(UTC).hour == 7  # summer time
    assert autumn.astimezone(UTC).hour == 8  # winter time


def test_zero_days_is_at_once_in_working_hours_and_next_working_morning_outside() -> None:
    assert shown(working_moment(local("2026-03-03 14:10"), STOCKHOLM)) == "Tue 2026-03-03 14:10"
    assert shown(working_moment(local("2026-03-03 07:10"), STOCKHOLM)) == "Tue 2026-03-03 09:00"
    assert shown(working_moment(local("2026-03-06 17:30"), STOCKHOLM)) == "Mon 2026-03-09 09:00"


def test_targets_end_the_working_day_and_skip_weekends() -> None:
    came_in = local("2026-03-03 09:00")  # Tuesday
    assert shown(target_time(came_in, Duration.parse("7d"), STOCKHOLM)) == "Tue 2026-03-10 17:00"
    assert shown(target_time(came_in, Duration.parse("4d"), STOCKHOLM)) == "Mon 2026-03-09 17:00"
    # Same working day; after hours it is the next working day's.
    assert shown(target_time(came_in, Duration.parse("0d"), STOCKHOLM)) == "Tue 2026-03-03 17:00"
    evening = local("2026-03-06 19:00")  # Friday evening
    assert shown(target_time(evening, Duration.parse("0d"), STOCKHOLM)) == "Mon 2026-03-09 17:00"
    assert shown(target_time(evening, Duration.parse("4h"), STOCKHOLM)) == "Fri 2026-03-06 23:00"


def test_nothing_is_due_before_its_time_and_the_next_call_is_known() -> None:
    guide = guide_with(call("ring", "3d"))
    state = enrolled("2026-03-02 10:00")
    decided = plan_followups(guide, state, frozenset(), local("2026-03-05 08:59"))
    assert decided.due == ()
    assert shown(decided.next_at) == "Thu 2026-03-05 09:00"
    decided = plan_followups(guide, state, frozenset(), local("2026-03-05 09:00"))
    assert [d.followup_id for d in decided.calls] == ["ring"]
    assert shown(decided.calls[0].target_at) == "Thu 2026-03-12 17:00"
    assert decided.next_at is None


def test_a_handled_call_never_comes_again() -> None:
    guide = guide_with(call("ring", "3d"))
    state = enrolled("2026-03-02 10:00")
    decided = plan_followups(guide, state, frozenset({"ring"}), local("2026-04-01 10:00"))
    assert decided.due == ()
    assert decided.next_at is None


def test_catch_up_after_an_outage_brings_every_missed_call_together() -> None:
    guide = guide_with(call("forsta", "3d", within="14d"), call("andra", "8d", within="14d"))
    state = enrolled("2026-03-02 10:00")
    # The scheduler was down from 3 March to 13 March: both calls are due at once.
    decided = plan_followups(guide, state, frozenset(), local("2026-03-13 10:00"))
    assert [d.followup_id for d in decided.calls] == ["forsta", "andra"]
    assert decided.missed == ()


def test_a_call_whose_target_passed_long_ago_is_missed_not_raised() -> None:
    guide = guide_with(call("ring", "3d", within="7d"), call("senare", "60d", within="7d"))
    state = enrolled("2026-03-02 10:00")
    decided = plan_followups(guide, state, frozenset(), local("2026-05-04 10:00"))
    assert [d.followup_id for d in decided.missed] == ["ring"]
    assert [d.followup_id for d in decided.calls] == ["senare"]


def test_a_call_from_a_phase_counts_from_the_first_start_of_that_phase() -> None:
    guide = guide_with(call("efter-diagnos", "3d", phase="tidig"))
    state = enrolled("2026-03-02 10:00")
    assert plan_followups(guide, state, frozenset(), local("2026-06-01 10:00")).due == ()
    moved = EnrolmentState(
        activated_at=state.activated_at,
        phase_history=(*state.phase_history, PhaseVisit("tidig", local("2026-03-10 15:00"))),
    )
    decided = plan_followups(guide, moved, frozenset(), local("2026-03-10 16:00"))
    assert shown(decided.next_at) == "Fri 2026-03-13 09:00"


def test_a_call_for_some_relatives_only_needs_their_answers() -> None:
    partner_only = When((Condition("relation", ("partner",)),))
    guide = guide_with(call("ring", "3d", when=partner_only))
    child = enrolled("2026-03-02 10:00", profile={"relation": "barn"})
    partner = enrolled("2026-03-02 10:00", profile={"relation": "partner"})
    now = local("2026-03-06 10:00")
    assert plan_followups(guide, child, frozenset(), now).due == ()
    assert len(plan_followups(guide, partner, frozenset(), now).calls) == 1


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        working_moment(datetime(2026, 3, 3, 10), STOCKHOLM)
