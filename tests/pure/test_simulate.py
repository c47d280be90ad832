"""Tests for the journey simulation: whole journeys walked through the planner."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import scheduler.simulate
from guide.content.model import (
    Checkin,
    Condition,
    Duration,
    Guide,
    Module,
    ModuleText,
    Mute,
    Phase,
    Question,
    QuestionType,
    RaiseAlert,
    ReleaseModule,
    ReleaseSpec,
    Rule,
    SetPhase,
    ShowCrisis,
    Text,
    When,
)
from scheduler.planner import EnrolmentState, PhaseVisit
from scheduler.simulate import Journey, JourneyEvent, simulate

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def shown(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def timeline(journey: Journey) -> list[tuple[str, str, str]]:
    return [(shown(event.at), event.kind, event.id) for event in journey.events]


def make_module(
    module_id: str,
    phase: str,
    after: str | None,
    *,
    anchor: str = "phase",
    when: When | None = None,
    order: int = 0,
) -> Module:
    """Build a module; `after=None` makes it on demand."""
    release = (
        ReleaseSpec(after=None, on_demand=True)
        if after is None
        else ReleaseSpec(after=Duration.parse(after), anchor=anchor)  # type: ignore[arg-type]
    )
    return Module(
        id=module_id,
        guide="efterlevande-test",
        phases=(phase,),
        release=release,
        texts={"sv": ModuleText("sv", module_id, f"Om {module_id}", "Text.")},
        when=when or When(),
        order=order,
    )


def make_phase(phase_id: str, duration: str | None = None, next: str | None = None) -> Phase:
    return Phase(
        phase_id, Text.of(sv=phase_id), Duration.parse(duration) if duration else None, next
    )


def yes(question: str) -> When:
    return When((Condition(question, ("yes",)),))


QUESTIONS = (
    Question("ork", QuestionType.SCALE, Text.of(sv="Hur mycket ork har du just nu?")),
    Question("flyttat", QuestionType.YES_NO, Text.of(sv="Har din närstående flyttat?")),
)


def make_guide(rules: tuple[Rule, ...] = ()) -> Guide:
    """A bereavement-like journey: acute days, the first time, the first year."""
    return Guide(
        id="efterlevande-test",
        title=Text.of(sv="Efter ett självmord"),
        summary=Text.of(sv="Stöd för efterlevande"),
        languages=("sv",),
        phases=(
            make_phase("akut", "14d", "forsta-tiden"),
            make_phase("forsta-tiden", "8w", "forsta-aret"),
            make_phase("forsta-aret"),
            make_phase("boende"),
        ),
        modules=(
            make_module("valkommen", "akut", "0d"),
            make_module("forsta-dagarna", "akut", "2d", order=10),
            make_module("sova", "akut", "2d", order=5),
            make_module("forsta-tiden-intro", "forsta-tiden", "0d"),
            make_module("stod", "forsta-tiden", "10d", anchor="activation", order=10),
            make_module("barn", "forsta-tiden", "7d", when=yes("har-barn")),
            make_module("ensam", "forsta-tiden", "14d", when=yes("bor-ensam")),
            make_module("vardag", "forsta-tiden", "14d"),
            make_module("forsta-aret-intro", "forsta-aret", "0d"),
            make_module("halvvags", "forsta-aret", "24w"),
            make_module("vintern", "forsta-aret", "26w"),
            make_module("arsdagen", "forsta-aret", "365d", anchor="activation"),
            make_module("varen", "forsta-aret", "46w"),
            make_module("krisstod", "forsta-aret", None),
            make_module("avlosning", "forsta-aret", None),
            make_module("flytt", "boende", "0d"),
        ),
        checkins=(
            Checkin(
                id="hur-gar-det",
                title=Text.of(sv="Hur går det?"),
                first=Duration.parse("3d"),
                every=Duration.parse("30d"),
                questions=QUESTIONS,
                rules=rules,
            ),
            Checkin(
                id="akut-koll",
                title=Text.of(sv="De första dagarna"),
                first=Duration.parse("1d"),
                every=Duration.parse("2d"),
                questions=QUESTIONS[:1],
                after="phase_start",
                phase="akut",
            ),
        ),
    )


def enrolment(phase: str = "akut", at: str = "2026-03-01 14:30") -> EnrolmentState:
    return EnrolmentState.enrol(local(at), phase, profile={"har-barn": "yes", "bor-ensam": "no"})


ACTIVATION = local("2026-03-01 14:30")
FOUR_HUNDRED_DAYS_ON = ACTIVATION + timedelta(days=400)

EXPECTED_400_DAYS = [
    ("2026-03-01 14:30", "release", "valkommen"),
    ("2026-03-02 09:00", "checkin", "akut-koll"),
    ("2026-03-03 09:00", "release", "sova"),
    ("2026-03-03 09:00", "release", "forsta-dagarna"),
    ("2026-03-04 09:00", "checkin", "akut-koll"),
    ("2026-03-04 09:00", "checkin", "hur-gar-det"),
    ("2026-03-06 09:00", "checkin", "akut-koll"),
    ("2026-03-08 09:00", "checkin", "akut-koll"),
    ("2026-03-10 09:00", "checkin", "akut-koll"),
    ("2026-03-12 09:00", "checkin", "akut-koll"),
    ("2026-03-14 09:00", "checkin", "akut-koll"),
    ("2026-03-15 09:00", "phase", "forsta-tiden"),
    ("2026-03-15 09:00", "release", "forsta-tiden-intro"),
    ("2026-03-15 09:00", "release", "stod"),
    ("2026-03-22 09:00", "release", "barn"),
    ("2026-03-29 09:00", "release", "vardag"),  # the day summer time starts
    ("2026-04-03 09:00", "checkin", "hur-gar-det"),
    ("2026-05-03 09:00", "checkin", "hur-gar-det"),
    ("2026-05-10 09:00", "phase", "forsta-aret"),
    ("2026-05-10 09:00", "release", "forsta-aret-intro"),
    ("2026-06-02 09:00", "checkin", "hur-gar-det"),
    ("2026-07-02 09:00", "checkin", "hur-gar-det"),
    ("2026-08-01 09:00", "checkin", "hur-gar-det"),
    ("2026-08-31 09:00", "checkin", "hur-gar-det"),
    ("2026-09-30 09:00", "checkin", "hur-gar-det"),
    ("2026-10-25 09:00", "release", "halvvags"),  # the day summer time ends
    ("2026-10-30 09:00", "checkin", "hur-gar-det"),
    ("2026-11-08 09:00", "release", "vintern"),
    ("2026-11-29 09:00", "checkin", "hur-gar-det"),
    ("2026-12-29 09:00", "checkin", "hur-gar-det"),
    ("2027-01-28 09:00", "checkin", "hur-gar-det"),
    ("2027-02-27 09:00", "checkin", "hur-gar-det"),
    ("2027-03-01 09:00", "release", "arsdagen"),
    ("2027-03-28 09:00", "release", "varen"),  # summer time again
    ("2027-03-29 09:00", "checkin", "hur-gar-det"),
]


def test_walk_of_400_days_releases_everything_on_its_local_day_and_hour() -> None:
    journey = simulate(make_guide(), enrolment(), FOUR_HUNDRED_DAYS_ON)
    assert timeline(journey) == EXPECTED_400_DAYS


def test_walk_arrives_at_nine_local_on_both_sides_of_each_dst_change() -> None:
    journey = simulate(make_guide(), enrolment(), FOUR_HUNDRED_DAYS_ON)
    released_at = {event.id: event.at for event in journey.events if event.kind == "release"}
    assert released_at["vardag"] == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert released_at["halvvags"] == datetime(2026, 10, 25, 8, tzinfo=UTC)
    assert released_at["varen"] == datetime(2027, 3, 28, 7, tzinfo=UTC)


def test_walk_sends_at_most_one_email_per_local_day() -> None:
    journey = simulate(make_guide(), enrolment(), FOUR_HUNDRED_DAYS_ON)
    moments_by_day = defaultdict(set)
    for event in journey.events:
        if event.kind in ("release", "checkin"):
            moments_by_day[event.at.astimezone(STOCKHOLM).date()].add(event.at)
    assert all(len(moments) == 1 for moments in moments_by_day.values())


def test_walk_jumps_from_due_moment_to_due_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_plan = scheduler.simulate.plan

    def counting_plan(guide, state, now):  # type: ignore[no-untyped-def]
        calls.append(now)
        return real_plan(guide, state, now)

    monkeypatch.setattr(scheduler.simulate, "plan", counting_plan)
    journey = simulate(make_guide(), enrolment(), FOUR_HUNDRED_DAYS_ON)
    # One planning stop per moment something happened; no idle ticks in between.
    assert calls == sorted({event.at for event in journey.events})


def test_walk_ends_with_the_state_the_scheduler_would_have_stored() -> None:
    journey = simulate(make_guide(), enrolment(), FOUR_HUNDRED_DAYS_ON)
    assert [visit.phase for visit in journey.state.phase_history] == [
        "akut",
        "forsta-tiden",
        "forsta-aret",
    ]
    assert "ensam" not in journey.state.released  # its condition never held
    assert "krisstod" not in journey.state.released  # on demand only
    assert journey.state.checkins_opened["hur-gar-det"] == local("2027-03-29 09:00")
    assert journey.state.last_email_on == local("2027-03-29 09:00").date()


def test_walk_stops_at_until() -> None:
    journey = simulate(make_guide(), enrolment(), local("2026-03-03 08:59"))
    assert timeline(journey) == [
        ("2026-03-01 14:30", "release", "valkommen"),
        ("2026-03-02 09:00", "checkin", "akut-koll"),
    ]


def test_walk_after_an_outage_catches_up_in_one_email() -> None:
    journey = simulate(
        make_guide(), enrolment(), local("2026-05-20 12:00"), start=local("2026-05-20 12:00")
    )
    assert timeline(journey) == [
        ("2026-03-15 09:00", "phase", "forsta-tiden"),
        ("2026-05-10 09:00", "phase", "forsta-aret"),
        ("2026-05-20 12:00", "release", "valkommen"),
        ("2026-05-20 12:00", "release", "sova"),
        ("2026-05-20 12:00", "release", "forsta-dagarna"),
        ("2026-05-20 12:00", "release", "forsta-tiden-intro"),
        ("2026-05-20 12:00", "release", "stod"),
        ("2026-05-20 12:00", "release", "barn"),
        ("2026-05-20 12:00", "release", "vardag"),
        ("2026-05-20 12:00", "release", "forsta-aret-intro"),
        ("2026-05-20 12:00", "checkin", "hur-gar-det"),  # only the newest, of 05-03
    ]
    assert journey.state.checkins_opened == {"hur-gar-det": local("2026-05-03 09:00")}


def test_walk_starting_mid_journey_skips_the_earlier_phases() -> None:
    journey = simulate(
        make_guide(),
        enrolment(phase="forsta-aret", at="2026-06-01 16:00"),
        local("2026-12-31 12:00"),
    )
    released = [event.id for event in journey.events if event.kind == "release"]
    assert released == ["forsta-aret-intro", "halvvags", "vintern"]
    assert timeline(journey)[0] == ("2026-06-01 16:00", "release", "forsta-aret-intro")


# --- scripted answers and the check-ins' rules -----------------------------------------

LOW_ORK = When((Condition("ork", lte=2),))


def answer_first_time(answers: dict[str, object]):  # type: ignore[no-untyped-def]
    """Answer the first hur-gar-det check-in with `answers`, and nothing else."""
    given: list[str] = []

    def respond(checkin: Checkin, moment: datetime) -> dict[str, object] | None:
        if checkin.id != "hur-gar-det" or given:
            return None
        given.append(checkin.id)
        return answers

    return respond


def events_at(journey: Journey, moment: str) -> list[tuple[str, str]]:
    return [(kind, id) for at, kind, id in journey.events if shown(at) == moment]


def test_answer_rules_release_alert_and_change_phase_at_once() -> None:
    guide = make_guide(
        rules=(
            Rule(
                LOW_ORK, (ReleaseModule("avlosning"), RaiseAlert("normal", Text.of(sv="Låg ork")))
            ),
            Rule(yes("flyttat"), (SetPhase("boende"),)),
        )
    )
    respond = answer_first_time({"ork": 1, "flyttat": "yes"})

    journey = simulate(guide, enrolment(), local("2026-04-05 12:00"), respond=respond)

    assert events_at(journey, "2026-03-04 09:00") == [
        ("checkin", "akut-koll"),
        ("checkin", "hur-gar-det"),
        ("answer", "hur-gar-det"),
        ("release", "avlosning"),
        ("alert", "hur-gar-det"),
        ("phase", "boende"),
        ("release", "flytt"),  # the new phase's opening module, in the same moment
    ]
    # The acute phase was left by a rule: its check-ins and its own end stop; the
    # check-in counted from activation goes on.
    assert [
        (shown(event.at), event.kind, event.id)
        for event in journey.events
        if event.at > local("2026-03-04 09:00")
    ] == [("2026-04-03 09:00", "checkin", "hur-gar-det")]
    assert journey.state.answers == {"ork": 1, "flyttat": "yes"}


def test_answer_rule_that_does_not_hold_changes_nothing() -> None:
    guide = make_guide(rules=(Rule(LOW_ORK, (ReleaseModule("avlosning"),)),))
    journey = simulate(
        guide, enrolment(), local("2026-03-05 12:00"), respond=answer_first_time({"ork": 4})
    )
    assert "avlosning" not in journey.state.released


def test_answer_rule_mutes_a_later_module() -> None:
    guide = make_guide(rules=(Rule(LOW_ORK, (Mute("vardag"),)),))
    journey = simulate(
        guide, enrolment(), local("2026-04-01 12:00"), respond=answer_first_time({"ork": 2})
    )
    assert ("mute", "vardag") in events_at(journey, "2026-03-04 09:00")
    assert "vardag" not in journey.state.released
    assert "barn" in journey.state.released


def test_answer_rule_never_releases_a_module_twice() -> None:
    guide = make_guide(rules=(Rule(LOW_ORK, (ReleaseModule("valkommen"),)),))
    journey = simulate(
        guide, enrolment(), local("2026-03-05 12:00"), respond=answer_first_time({"ork": 1})
    )
    assert [event.id for event in journey.events if event.kind == "release"].count("valkommen") == 1


def test_answer_rule_showing_crisis_is_logged() -> None:
    guide = make_guide(rules=(Rule(LOW_ORK, (ShowCrisis(),)),))
    journey = simulate(
        guide, enrolment(), local("2026-03-05 12:00"), respond=answer_first_time({"ork": 1})
    )
    assert ("crisis", "hur-gar-det") in events_at(journey, "2026-03-04 09:00")


def test_answer_rule_moving_to_the_current_phase_keeps_its_schedule() -> None:
    guide = make_guide(rules=(Rule(LOW_ORK, (SetPhase("akut"),)),))
    journey = simulate(
        guide, enrolment(), local("2026-03-05 12:00"), respond=answer_first_time({"ork": 1})
    )
    assert journey.state.phase_history == (PhaseVisit("akut", ACTIVATION),)


def test_events_unpack_as_moment_kind_and_id() -> None:
    at, kind, id = JourneyEvent(ACTIVATION, "release", "valkommen")
    assert (at, kind, id) == (ACTIVATION, "release", "valkommen")
