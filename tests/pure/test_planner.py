"""Tests for the pure release planner: due times, phases, modules, check-ins, e-mail days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from guide.content.model import (
    Checkin,
    Condition,
    Duration,
    Guide,
    Module,
    ModuleText,
    Phase,
    ReleaseSpec,
    Text,
    When,
)
from scheduler.planner import (
    DueCheckin,
    DueModule,
    EnrolmentState,
    PhaseVisit,
    Plan,
    apply_plan,
    due_time,
    plan,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")


# --- small builders: fixture guides straight from the model dataclasses ---------------


def local(text: str) -> datetime:
    """Return the Stockholm wall-clock time written as 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def shown(moment: datetime | None) -> str | None:
    """Return `moment` as Stockholm wall-clock text, the way the tests write times."""
    return None if moment is None else moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def make_phase(phase_id: str, duration: str | None = None, next: str | None = None) -> Phase:
    return Phase(
        phase_id,
        Text.of(sv=phase_id),
        Duration.parse(duration) if duration else None,
        next,
    )


def make_module(
    module_id: str,
    phase: str | tuple[str, ...] = "tidig",
    after: str | None = "0d",
    *,
    anchor: str = "phase",
    when: dict[str, tuple[str, ...]] | None = None,
    order: int = 0,
) -> Module:
    """Build a module; `after=None` makes it on demand."""
    release = (
        ReleaseSpec(after=None, on_demand=True)
        if after is None
        else ReleaseSpec(after=Duration.parse(after), anchor=anchor)  # type: ignore[arg-type]
    )
    conditions = tuple(Condition(question, accepted) for question, accepted in (when or {}).items())
    return Module(
        id=module_id,
        guide="test",
        phases=(phase,) if isinstance(phase, str) else phase,
        release=release,
        texts={"sv": ModuleText("sv", module_id, f"Om {module_id}", "Text.")},
        when=When(conditions),
        order=order,
    )


def make_checkin(
    checkin_id: str,
    first: str,
    every: str | None = None,
    *,
    phase: str | None = None,
) -> Checkin:
    return Checkin(
        id=checkin_id,
        title=Text.of(sv=checkin_id),
        first=Duration.parse(first),
        questions=(),
        after="phase_start" if phase else "activation",
        phase=phase,
        every=Duration.parse(every) if every else None,
    )


def make_guide(
    phases: tuple[Phase, ...] = (make_phase("tidig"),),
    modules: tuple[Module, ...] = (),
    checkins: tuple[Checkin, ...] = (),
) -> Guide:
    return Guide(
        id="test",
        title=Text.of(sv="Testguide"),
        summary=Text.of(sv="En guide för tester"),
        languages=("sv",),
        phases=phases,
        modules=modules,
        checkins=checkins,
    )


def enrol(at: str, phase: str = "tidig", **details: object) -> EnrolmentState:
    return EnrolmentState.enrol(local(at), phase, **details)


def released_ids(decided: Plan) -> list[str]:
    return [due.module_id for due in decided.releases]


def days(n: int) -> Duration:
    return Duration(n, "d")


# --- due_time ---------------------------------------------------------------------------


@pytest.mark.parametrize("clock", ["00:05", "08:59", "14:30", "23:50"])
def test_days_fall_due_at_preferred_hour_whatever_the_anchor_clock_time(clock: str) -> None:
    assert shown(due_time(local(f"2026-05-04 {clock}"), days(1), STOCKHOLM)) == "2026-05-05 09:00"


def test_weeks_count_seven_local_days() -> None:
    due = due_time(local("2026-05-04 16:00"), Duration(2, "w"), STOCKHOLM)
    assert shown(due) == "2026-05-18 09:00"


def test_zero_days_means_at_once() -> None:
    anchor = local("2026-05-04 22:17")
    assert due_time(anchor, days(0), STOCKHOLM) == anchor


def test_due_time_uses_the_preferred_hour() -> None:
    due = due_time(local("2026-05-04 10:00"), days(3), STOCKHOLM, preferred_hour=20)
    assert shown(due) == "2026-05-07 20:00"


def test_due_time_is_returned_in_utc() -> None:
    assert due_time(local("2026-05-04 10:00"), days(1), STOCKHOLM).tzinfo is UTC


@pytest.mark.parametrize(
    ("anchor", "due_utc"),
    [
        ("2026-03-28 14:00", datetime(2026, 3, 29, 7, tzinfo=UTC)),  # last Sunday of March 2026
        ("2027-03-27 14:00", datetime(2027, 3, 28, 7, tzinfo=UTC)),  # last Sunday of March 2027
        ("2026-03-22 23:30", datetime(2026, 3, 29, 7, tzinfo=UTC)),
    ],
)
def test_module_due_across_spring_dst_arrives_at_nine_local(anchor: str, due_utc: datetime) -> None:
    due = due_time(local(anchor), days(7 if anchor.startswith("2026-03-22") else 1), STOCKHOLM)
    assert due == due_utc
    assert due.astimezone(STOCKHOLM).hour == 9


@pytest.mark.parametrize(
    ("anchor", "due_utc"),
    [
        ("2026-10-24 14:00", datetime(2026, 10, 25, 8, tzinfo=UTC)),  # last Sunday of Oct 2026
        ("2027-10-30 14:00", datetime(2027, 10, 31, 8, tzinfo=UTC)),  # last Sunday of Oct 2027
        ("2026-10-18 06:10", datetime(2026, 10, 25, 8, tzinfo=UTC)),
    ],
)
def test_module_due_across_autumn_dst_arrives_at_nine_local(anchor: str, due_utc: datetime) -> None:
    due = due_time(local(anchor), days(7 if anchor.startswith("2026-10-18") else 1), STOCKHOLM)
    assert due == due_utc
    assert due.astimezone(STOCKHOLM).hour == 9


def test_hours_are_exact_across_a_dst_change() -> None:
    # 24 real hours after noon on the Saturday is 13:00 on the (23-hour) Sunday.
    due = due_time(local("2026-03-28 12:00"), Duration(24, "h"), STOCKHOLM)
    assert shown(due) == "2026-03-29 13:00"


@pytest.mark.parametrize(
    ("anchor", "hours", "expected"),
    [
        ("2026-05-04 18:00", 3, "2026-05-05 08:00"),  # 21:00 is quiet
        ("2026-05-04 18:00", 5, "2026-05-05 08:00"),  # 23:00
        ("2026-05-04 22:00", 4, "2026-05-05 08:00"),  # 02:00
        ("2026-05-04 22:00", 9, "2026-05-05 08:00"),  # 07:00
        ("2026-05-04 18:00", 2, "2026-05-04 20:00"),  # before quiet hours
        ("2026-05-04 22:00", 10, "2026-05-05 08:00"),  # 08:00 itself is not quiet
    ],
)
def test_hours_ending_in_quiet_hours_move_to_eight(anchor: str, hours: int, expected: str) -> None:
    assert shown(due_time(local(anchor), Duration(hours, "h"), STOCKHOLM)) == expected


def test_hours_just_before_quiet_hours_stay_exact() -> None:
    due = due_time(local("2026-05-04 18:59"), Duration(2, "h"), STOCKHOLM)
    assert shown(due) == "2026-05-04 20:59"


@pytest.mark.parametrize("hour", [7, 21, 0])
def test_preferred_hour_outside_eight_to_twenty_is_rejected(hour: int) -> None:
    with pytest.raises(ValueError, match="between 08:00 and 20:00"):
        due_time(local("2026-05-04 10:00"), days(1), STOCKHOLM, preferred_hour=hour)


# --- the enrolment's state --------------------------------------------------------------


def test_state_rejects_a_naive_activation_time() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        EnrolmentState.enrol(datetime(2026, 5, 4, 10), "tidig")


def test_state_rejects_an_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="not a known time zone"):
        enrol("2026-05-04 10:00", timezone="Europe/Stokholm")


@pytest.mark.parametrize("hour", [7, 21])
def test_state_rejects_a_preferred_hour_outside_eight_to_twenty(hour: int) -> None:
    with pytest.raises(ValueError, match="between 08:00 and 20:00"):
        enrol("2026-05-04 10:00", preferred_hour=hour)


def test_state_needs_a_phase() -> None:
    with pytest.raises(ValueError, match="at least one phase visit"):
        EnrolmentState(activated_at=local("2026-05-04 10:00"), phase_history=())


def test_state_keeps_its_own_copy_of_the_answers() -> None:
    answers = {"ork": 3}
    state = enrol("2026-05-04 10:00", answers=answers)
    answers["ork"] = 1
    assert state.answers["ork"] == 3


def test_plan_rejects_a_naive_now() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        plan(make_guide(), enrol("2026-05-04 10:00"), datetime(2026, 5, 4, 11))


# --- modules ----------------------------------------------------------------------------


def test_opening_module_is_released_the_moment_the_card_is_redeemed() -> None:
    guide = make_guide(modules=(make_module("valkommen", after="0d"),))
    decided = plan(guide, enrol("2026-05-04 15:12"), local("2026-05-04 15:12"))
    assert decided.releases == (DueModule("valkommen", local("2026-05-04 15:12")),)


def test_module_is_not_due_before_its_day_and_next_due_at_says_when() -> None:
    guide = make_guide(modules=(make_module("avlosning", after="7d"),))
    state = enrol("2026-05-04 15:12")

    early = plan(guide, state, local("2026-05-11 08:59"))
    on_time = plan(guide, state, local("2026-05-11 09:00"))

    assert early.releases == ()
    assert shown(early.next_due_at) == shown(early.next_module_at) == "2026-05-11 09:00"
    assert released_ids(on_time) == ["avlosning"]


def test_nothing_more_to_come_gives_no_next_due_at() -> None:
    guide = make_guide(modules=(make_module("valkommen"),))
    state = enrol("2026-05-04 10:00", released=frozenset({"valkommen"}))
    decided = plan(guide, state, local("2026-06-01 10:00"))
    assert decided == Plan((), (), (), None, None)


def test_modules_due_at_the_same_time_are_sorted_by_order_then_id() -> None:
    guide = make_guide(
        modules=(
            make_module("c-senare", after="2d", order=20),
            make_module("b-forst", after="2d", order=10),
            make_module("a-forst", after="2d", order=10),
            make_module("valkommen", after="0d", order=99),
        )
    )
    decided = plan(guide, enrol("2026-05-04 10:00"), local("2026-05-06 09:00"))
    # The 0d module fell due earlier, so it comes first whatever its order.
    assert released_ids(decided) == ["valkommen", "a-forst", "b-forst", "c-senare"]


def test_released_module_is_never_due_again() -> None:
    guide = make_guide(modules=(make_module("valkommen"), make_module("avlosning", after="7d")))
    state = enrol("2026-05-04 10:00", released=frozenset({"valkommen", "avlosning"}))
    assert plan(guide, state, local("2026-07-01 10:00")).releases == ()


def test_on_demand_module_is_never_scheduled() -> None:
    guide = make_guide(modules=(make_module("krisstod", after=None),))
    decided = plan(guide, enrol("2026-05-04 10:00"), local("2027-05-04 10:00"))
    assert decided.releases == ()
    assert decided.next_due_at is None


def test_muted_module_is_never_released() -> None:
    guide = make_guide(modules=(make_module("valkommen"), make_module("avlosning", after="7d")))
    state = enrol("2026-05-04 10:00", muted=frozenset({"avlosning"}))
    decided = plan(guide, state, local("2026-06-01 10:00"))
    assert released_ids(decided) == ["valkommen"]
    assert decided.next_due_at is None


def test_modules_of_a_muted_phase_are_never_released() -> None:
    guide = make_guide(modules=(make_module("valkommen"), make_module("avlosning", after="7d")))
    state = enrol("2026-05-04 10:00", muted=frozenset({"tidig"}))
    decided = plan(guide, state, local("2026-06-01 10:00"))
    assert decided.releases == ()
    assert decided.next_due_at is None


def test_module_of_two_phases_is_still_released_in_its_unmuted_phase() -> None:
    guide = make_guide(
        phases=(make_phase("tidig"), make_phase("mellan")),
        modules=(make_module("avlosning", ("tidig", "mellan"), "7d"),),
    )
    state = EnrolmentState(
        activated_at=local("2026-05-04 10:00"),
        phase_history=(
            PhaseVisit("tidig", local("2026-05-04 10:00")),
            PhaseVisit("mellan", local("2026-05-06 10:00")),
        ),
        muted=frozenset({"tidig"}),
    )
    assert released_ids(plan(guide, state, local("2026-05-13 09:00"))) == ["avlosning"]


def test_module_whose_condition_does_not_hold_is_not_due() -> None:
    guide = make_guide(modules=(make_module("barn", after="2d", when={"har_barn": ("yes",)}),))
    state = enrol("2026-05-04 10:00", profile={"har_barn": "no"})
    decided = plan(guide, state, local("2026-06-01 10:00"))
    assert decided.releases == ()
    assert decided.next_due_at is None


def test_module_becomes_due_when_an_answer_makes_its_condition_hold() -> None:
    guide = make_guide(modules=(make_module("avlosning", after="7d", when={"ork": ("1", "2")}),))
    state = enrol("2026-05-04 10:00", answers={"ork": 4})
    assert plan(guide, state, local("2026-05-20 10:00")).releases == ()

    tired = replace(state, answers={"ork": 2})
    decided = plan(guide, tired, local("2026-05-20 10:00"))
    assert decided.releases == (DueModule("avlosning", local("2026-05-11 09:00")),)


def test_condition_reads_profile_and_answers_with_the_answer_winning() -> None:
    guide = make_guide(
        modules=(
            make_module("sambo", when={"bor_ihop": ("yes",), "ork": ("1",)}),
            make_module("ensam", when={"bor_ihop": ("no",)}),
        )
    )
    state = enrol(
        "2026-05-04 10:00",
        profile={"bor_ihop": "no", "ork": 1},
        answers={"bor_ihop": "yes"},
    )
    assert released_ids(plan(guide, state, local("2026-05-04 10:00"))) == ["sambo"]


def test_phase_anchored_module_counts_from_the_start_of_the_current_visit() -> None:
    guide = make_guide(
        phases=(make_phase("tidig"), make_phase("mellan")),
        modules=(make_module("mellan-avlosning", "mellan", "7d"),),
    )
    state = EnrolmentState(
        activated_at=local("2026-05-04 10:00"),
        phase_history=(
            PhaseVisit("tidig", local("2026-05-04 10:00")),
            PhaseVisit("mellan", local("2026-06-10 16:45")),  # a rule moved the relative
        ),
    )
    decided = plan(guide, state, local("2026-06-10 16:45"))
    assert shown(decided.next_due_at) == "2026-06-17 09:00"


def test_activation_anchored_module_waits_for_its_phase() -> None:
    guide = make_guide(
        phases=(make_phase("tidig"), make_phase("mellan")),
        modules=(make_module("stod", "mellan", "10d", anchor="activation"),),
    )
    before = enrol("2026-05-04 10:00")
    assert plan(guide, before, local("2026-05-20 10:00")).releases == ()

    reached = replace(
        before,
        phase_history=(*before.phase_history, PhaseVisit("mellan", local("2026-05-30 13:00"))),
    )
    decided = plan(guide, reached, local("2026-05-30 13:00"))
    assert decided.releases == (DueModule("stod", local("2026-05-30 13:00")),)


def test_activation_anchored_module_keeps_its_day_when_its_phase_came_first() -> None:
    guide = make_guide(
        phases=(make_phase("tidig"), make_phase("mellan")),
        modules=(make_module("stod", "mellan", "10d", anchor="activation"),),
    )
    state = EnrolmentState(
        activated_at=local("2026-05-04 10:00"),
        phase_history=(
            PhaseVisit("tidig", local("2026-05-04 10:00")),
            PhaseVisit("mellan", local("2026-05-06 10:00")),
        ),
    )
    assert shown(plan(guide, state, local("2026-05-06 10:00")).next_due_at) == "2026-05-14 09:00"


def test_module_of_a_phase_already_left_is_not_released() -> None:
    guide = make_guide(
        phases=(make_phase("tidig"), make_phase("mellan")),
        modules=(make_module("tidig-tips", "tidig", "7d"), make_module("mellan-intro", "mellan")),
    )
    state = EnrolmentState(
        activated_at=local("2026-05-04 10:00"),
        phase_history=(
            PhaseVisit("tidig", local("2026-05-04 10:00")),
            PhaseVisit("mellan", local("2026-05-06 10:00")),  # left before day 7
        ),
        released=frozenset({"mellan-intro"}),
    )
    decided = plan(guide, state, local("2026-05-20 10:00"))
    assert decided.releases == ()
    assert decided.next_due_at is None


def test_unknown_current_phase_releases_nothing() -> None:
    # The content dropped the phase after the relative reached it.
    guide = make_guide(modules=(make_module("valkommen"),))
    state = enrol("2026-05-04 10:00", phase="borttagen")
    assert plan(guide, state, local("2026-05-04 10:00")) == Plan((), (), (), None, None)


# --- phases that end by themselves ------------------------------------------------------

CHAIN = (
    make_phase("akut", "14d", "forsta-tiden"),
    make_phase("forsta-tiden", "8w", "forsta-aret"),
    make_phase("forsta-aret"),
)


def test_phase_with_a_duration_ends_at_the_preferred_hour_of_its_last_day() -> None:
    guide = make_guide(phases=CHAIN)
    state = enrol("2026-03-01 14:30", phase="akut")

    before = plan(guide, state, local("2026-03-15 08:59"))
    after = plan(guide, state, local("2026-03-15 09:00"))

    assert before.phase_changes == ()
    assert shown(before.next_due_at) == "2026-03-15 09:00"
    assert after.phase_changes == (PhaseVisit("forsta-tiden", local("2026-03-15 09:00")),)


def test_chain_of_phases_is_followed_after_downtime() -> None:
    guide = make_guide(phases=CHAIN)
    decided = plan(guide, enrol("2026-03-01 14:30", phase="akut"), local("2026-06-01 12:00"))
    assert [(visit.phase, shown(visit.started_at)) for visit in decided.phase_changes] == [
        ("forsta-tiden", "2026-03-15 09:00"),
        ("forsta-aret", "2026-05-10 09:00"),
    ]
    assert decided.next_due_at is None


def test_phase_lasting_hours_ends_outside_quiet_hours() -> None:
    guide = make_guide(phases=(make_phase("akut", "12h", "sedan"), make_phase("sedan")))
    decided = plan(guide, enrol("2026-05-04 15:00", phase="akut"), local("2026-05-04 15:00"))
    assert shown(decided.next_due_at) == "2026-05-05 08:00"


def test_zero_time_phase_loop_is_reported() -> None:
    guide = make_guide(phases=(make_phase("a", "0d", "b"), make_phase("b", "0d", "a")))
    with pytest.raises(ValueError, match="in a loop"):
        plan(guide, enrol("2026-05-04 10:00", phase="a"), local("2026-05-04 10:00"))


def test_zero_time_phase_passes_straight_on() -> None:
    guide = make_guide(
        phases=(make_phase("intag", "0d", "tidig"), make_phase("tidig")),
        modules=(make_module("valkommen", "tidig"),),
    )
    decided = plan(guide, enrol("2026-05-04 10:00", phase="intag"), local("2026-05-04 10:00"))
    assert decided.phase_changes == (PhaseVisit("tidig", local("2026-05-04 10:00")),)
    assert released_ids(decided) == ["valkommen"]


CATCH_UP_MODULES = (
    make_module("valkommen", "akut", "0d"),
    make_module("sova", "akut", "2d", order=5),
    make_module("forsta-dagarna", "akut", "2d", order=10),
    make_module("sent-i-akut", "akut", "20d"),  # the phase is over by then
    make_module("forsta-tiden-intro", "forsta-tiden", "0d"),
    make_module("stod", "forsta-tiden", "10d", anchor="activation", order=10),
    make_module("vardag", "forsta-tiden", "14d"),
    make_module("forsta-aret-intro", "forsta-aret", "0d"),
    make_module("halvvags", "forsta-aret", "24w"),
)


def test_catch_up_releases_everything_missed_in_one_plan_without_flooding() -> None:
    guide = make_guide(phases=CHAIN, modules=CATCH_UP_MODULES)
    state = enrol("2026-03-01 14:30", phase="akut", released=frozenset({"valkommen"}))

    decided = plan(guide, state, local("2026-06-01 12:00"))  # a long outage

    assert [(due.module_id, shown(due.due_at)) for due in decided.releases] == [
        ("sova", "2026-03-03 09:00"),
        ("forsta-dagarna", "2026-03-03 09:00"),
        ("forsta-tiden-intro", "2026-03-15 09:00"),
        ("stod", "2026-03-15 09:00"),
        ("vardag", "2026-03-29 09:00"),
        ("forsta-aret-intro", "2026-05-10 09:00"),
    ]
    assert shown(decided.next_due_at) == shown(decided.next_module_at) == "2026-10-25 09:00"
    after = apply_plan(state, decided, local("2026-06-01 12:00"))
    assert plan(guide, after, local("2026-06-01 12:00")).releases == ()


def test_catch_up_skips_what_would_have_fallen_after_its_phase_ended() -> None:
    guide = make_guide(phases=CHAIN, modules=CATCH_UP_MODULES)
    state = enrol("2026-03-01 14:30", phase="akut")
    decided = plan(guide, state, local("2026-04-01 12:00"))
    assert "sent-i-akut" not in released_ids(decided)


def test_starting_mid_journey_gives_the_phase_opening_module_not_the_backlog() -> None:
    guide = make_guide(phases=CHAIN, modules=CATCH_UP_MODULES)
    state = enrol("2026-06-01 12:00", phase="forsta-aret")
    decided = plan(guide, state, local("2026-06-01 12:00"))
    assert released_ids(decided) == ["forsta-aret-intro"]
    assert shown(decided.next_module_at) == "2026-11-16 09:00"  # halvvags, 24 weeks on


def test_phase_said_to_start_before_activation_does_not_pull_its_backlog_forward() -> None:
    guide = make_guide(phases=CHAIN, modules=CATCH_UP_MODULES)
    state = EnrolmentState(
        activated_at=local("2026-06-01 12:00"),
        phase_history=(PhaseVisit("forsta-tiden", local("2026-04-01 12:00")),),
    )
    decided = plan(guide, state, local("2026-06-01 12:00"))
    # The schedule of the phase counts from activation: only its opening module now,
    # then stod (activation + 10d) and vardag (14d), not at once.
    assert released_ids(decided) == ["forsta-tiden-intro"]
    assert shown(decided.next_module_at) == "2026-06-11 09:00"
    assert decided.phase_changes == ()


def test_next_module_at_looks_into_the_phase_that_follows_by_itself() -> None:
    guide = make_guide(phases=CHAIN, modules=CATCH_UP_MODULES)
    state = enrol(
        "2026-03-01 14:30",
        phase="akut",
        released=frozenset({"valkommen", "sova", "forsta-dagarna"}),
    )
    decided = plan(guide, state, local("2026-03-05 12:00"))
    assert shown(decided.next_due_at) == "2026-03-15 09:00"  # the phase change
    assert shown(decided.next_module_at) == "2026-03-15 09:00"  # its opening module


# --- check-ins --------------------------------------------------------------------------


def test_checkin_opens_first_after_activation() -> None:
    guide = make_guide(checkins=(make_checkin("hur-gar-det", "3d", "30d"),))
    state = enrol("2026-05-04 15:00")

    assert shown(plan(guide, state, local("2026-05-04 15:00")).next_due_at) == "2026-05-07 09:00"
    decided = plan(guide, state, local("2026-05-07 09:00"))
    assert decided.checkins == (DueCheckin("hur-gar-det", local("2026-05-07 09:00")),)
    assert decided.next_module_at is None


def test_repeating_checkin_opens_every_period() -> None:
    guide = make_guide(checkins=(make_checkin("hur-gar-det", "3d", "30d"),))
    state = enrol("2026-05-04 15:00", checkins_opened={"hur-gar-det": local("2026-05-07 09:00")})

    decided = plan(guide, state, local("2026-05-07 09:00"))
    assert decided.checkins == ()
    assert shown(decided.next_due_at) == "2026-06-06 09:00"


def test_only_the_newest_missed_checkin_occurrence_opens() -> None:
    guide = make_guide(checkins=(make_checkin("hur-gar-det", "3d", "30d"),))
    state = enrol("2026-05-04 15:00", checkins_opened={"hur-gar-det": local("2026-05-07 09:00")})
    decided = plan(guide, state, local("2026-09-10 12:00"))
    assert [(due.checkin_id, shown(due.due_at)) for due in decided.checkins] == [
        ("hur-gar-det", "2026-09-04 09:00")
    ]
    assert shown(decided.next_due_at) == "2026-10-04 09:00"


def test_opened_checkin_occurrence_never_opens_again() -> None:
    guide = make_guide(checkins=(make_checkin("hur-gar-det", "3d", "30d"),))
    state = enrol("2026-05-04 15:00", checkins_opened={"hur-gar-det": local("2026-09-04 09:00")})
    assert plan(guide, state, local("2026-09-10 12:00")).checkins == ()


def test_one_off_checkin_opens_once() -> None:
    guide = make_guide(checkins=(make_checkin("start", "1d"),))
    state = enrol("2026-05-04 15:00")
    first = plan(guide, state, local("2026-05-09 12:00"))
    opened = apply_plan(state, first, local("2026-05-09 12:00"))
    assert first.checkins == (DueCheckin("start", local("2026-05-05 09:00")),)
    assert plan(guide, opened, local("2026-06-09 12:00")) == Plan((), (), (), None, None)


def test_hourly_checkin_waits_out_quiet_hours() -> None:
    guide = make_guide(checkins=(make_checkin("efter-samtal", "2h", "4h"),))
    state = enrol("2026-05-04 15:00")
    decided = plan(guide, state, local("2026-05-04 23:00"))
    # 17:00 and 21:00 were due; 21:00 is quiet and waits for 08:00, so 17:00 is newest.
    assert [shown(due.due_at) for due in decided.checkins] == ["2026-05-04 17:00"]
    assert shown(decided.next_due_at) == "2026-05-05 08:00"


def phase_checkin_state(current_since: str) -> EnrolmentState:
    return EnrolmentState(
        activated_at=local("2026-03-01 14:30"),
        phase_history=(PhaseVisit("akut", local(current_since)),),
    )


def test_phase_bound_checkin_counts_from_the_start_of_its_phase() -> None:
    guide = make_guide(
        phases=CHAIN, checkins=(make_checkin("akut-koll", "1d", "2d", phase="akut"),)
    )
    state = phase_checkin_state("2026-03-02 20:00")
    decided = plan(guide, state, local("2026-03-05 12:00"))
    assert [shown(due.due_at) for due in decided.checkins] == ["2026-03-05 09:00"]


def test_phase_bound_checkin_stops_when_its_phase_ends() -> None:
    guide = make_guide(
        phases=CHAIN, checkins=(make_checkin("akut-koll", "1d", "2d", phase="akut"),)
    )
    state = phase_checkin_state("2026-03-01 14:30")
    last = plan(guide, state, local("2026-03-14 09:00"))
    assert [shown(due.due_at) for due in last.checkins] == ["2026-03-14 09:00"]
    assert shown(last.next_due_at) == "2026-03-15 09:00"  # the phase change, not 03-16

    later = plan(
        guide, apply_plan(state, last, local("2026-03-14 09:00")), local("2026-04-01 09:00")
    )
    assert later.checkins == ()


def test_phase_bound_checkin_does_not_open_outside_its_phase() -> None:
    guide = make_guide(
        phases=CHAIN, checkins=(make_checkin("aret-koll", "1d", "2d", phase="forsta-aret"),)
    )
    decided = plan(guide, phase_checkin_state("2026-03-01 14:30"), local("2026-03-05 12:00"))
    assert decided.checkins == ()


def test_phase_bound_checkin_of_a_muted_phase_does_not_open() -> None:
    guide = make_guide(
        phases=CHAIN, checkins=(make_checkin("akut-koll", "1d", "2d", phase="akut"),)
    )
    state = replace(phase_checkin_state("2026-03-01 14:30"), muted=frozenset({"akut"}))
    decided = plan(guide, state, local("2026-03-05 12:00"))
    assert decided.checkins == ()
    assert shown(decided.next_due_at) == "2026-03-15 09:00"


# --- at most one e-mail a day -----------------------------------------------------------


def test_everything_due_the_same_day_goes_out_in_one_plan() -> None:
    guide = make_guide(
        modules=(make_module("avlosning", after="3d"),),
        checkins=(make_checkin("hur-gar-det", "3d"),),
    )
    decided = plan(guide, enrol("2026-05-04 15:00"), local("2026-05-07 09:00"))
    assert released_ids(decided) == ["avlosning"]
    assert [due.checkin_id for due in decided.checkins] == ["hur-gar-det"]
    assert decided.sends_email


def test_items_due_after_todays_email_wait_for_tomorrow() -> None:
    guide = make_guide(
        modules=(make_module("avlosning", after="3d"),),
        checkins=(make_checkin("efter-samtal", "2h"),),
    )
    state = enrol(
        "2026-05-07 10:00",
        preferred_hour=8,
        released=frozenset(),
        last_email_on=date(2026, 5, 7),  # e.g. this morning's e-mail went out
    )
    decided = plan(guide, state, local("2026-05-07 12:30"))
    assert decided.checkins == ()
    assert shown(decided.next_due_at) == "2026-05-08 08:00"

    tomorrow = plan(guide, state, local("2026-05-08 08:00"))
    assert tomorrow.checkins == (DueCheckin("efter-samtal", local("2026-05-07 12:00")),)


def test_missed_items_wait_for_tomorrow_when_today_already_had_an_email() -> None:
    guide = make_guide(modules=(make_module("valkommen"), make_module("avlosning", after="3d")))
    state = enrol(
        "2026-05-04 10:00",
        released=frozenset({"valkommen"}),
        last_email_on=date(2026, 5, 20),
    )
    decided = plan(guide, state, local("2026-05-20 15:00"))
    assert decided.releases == ()
    assert shown(decided.next_due_at) == shown(decided.next_module_at) == "2026-05-21 09:00"


def test_later_today_items_are_planned_for_tomorrow_when_an_email_goes_now() -> None:
    guide = make_guide(
        modules=(make_module("valkommen"), make_module("uppfoljning", after="4h")),
    )
    decided = plan(guide, enrol("2026-05-04 10:00"), local("2026-05-04 10:00"))
    assert released_ids(decided) == ["valkommen"]
    assert shown(decided.next_due_at) == shown(decided.next_module_at) == "2026-05-05 09:00"


def test_later_today_items_keep_their_time_when_nothing_goes_out_now() -> None:
    guide = make_guide(modules=(make_module("uppfoljning", after="4h"),))
    decided = plan(guide, enrol("2026-05-04 10:00"), local("2026-05-04 10:00"))
    assert shown(decided.next_due_at) == "2026-05-04 14:00"


def test_opening_module_of_a_new_phase_is_not_held_back_by_todays_email() -> None:
    guide = make_guide(
        phases=(make_phase("tidig"), make_phase("boende")),
        modules=(make_module("flytt", "boende", "0d"), make_module("flytt-rad", "boende", "1d")),
    )
    state = EnrolmentState(
        activated_at=local("2026-05-04 10:00"),
        phase_history=(
            PhaseVisit("tidig", local("2026-05-04 10:00")),
            PhaseVisit("boende", local("2026-06-10 14:00")),  # a check-in answer moved them
        ),
        last_email_on=date(2026, 6, 10),
    )
    decided = plan(guide, state, local("2026-06-10 14:00"))
    assert released_ids(decided) == ["flytt"]
    assert shown(decided.next_module_at) == "2026-06-11 09:00"


# --- carrying out a plan ----------------------------------------------------------------


def test_apply_plan_records_phases_releases_checkins_and_the_email_day() -> None:
    guide = make_guide(
        phases=CHAIN,
        modules=CATCH_UP_MODULES,
        checkins=(make_checkin("hur-gar-det", "3d", "30d"),),
    )
    state = enrol("2026-03-01 14:30", phase="akut")
    now = local("2026-03-20 12:00")

    after = apply_plan(state, plan(guide, state, now), now)

    assert [visit.phase for visit in after.phase_history] == ["akut", "forsta-tiden"]
    assert after.released == {
        "valkommen",
        "sova",
        "forsta-dagarna",
        "forsta-tiden-intro",
        "stod",
    }
    assert after.checkins_opened == {"hur-gar-det": local("2026-03-04 09:00")}
    assert after.last_email_on == date(2026, 3, 20)


def test_apply_plan_of_an_empty_plan_keeps_the_email_day() -> None:
    state = enrol("2026-03-01 14:30", last_email_on=date(2026, 3, 1))
    empty = Plan((), (), (), None, None)
    assert apply_plan(state, empty, local("2026-03-05 12:00")) == state
