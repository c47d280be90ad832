"""The planner on journeys anchored on a date the relative gave (scheduler/anchors.py).

A small bereavement-like guide: four phases that start by themselves a number of days
after the date (`at`), modules counted from the phase, from the date and from
activation, and check-ins counted from the date and from the phase.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from guide.content.model import (
    Checkin,
    Duration,
    Guide,
    Module,
    ModuleText,
    Phase,
    PhaseStart,
    ReleaseSpec,
    Text,
)
from scheduler.anchors import anchor_moment, answered_date
from scheduler.planner import EnrolmentState, due_time, plan
from scheduler.simulate import Journey, simulate

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DATE = "datum"

# phase -> days after the date it starts
PHASE_STARTS = {"akut": 0, "forsta": 14, "aret": 104, "arsdag": 351}


def phase(phase_id: str, next_id: str | None) -> Phase:
    start = PhaseStart(Duration(PHASE_STARTS[phase_id], "d"), DATE)
    return Phase(phase_id, Text.of(sv=phase_id), None, next_id, start)


def module(
    module_id: str, phases: tuple[str, ...], after: int, anchor: str = "phase", order: int = 0
) -> Module:
    release = ReleaseSpec(
        after=Duration(after, "d"),
        anchor=anchor,  # type: ignore[arg-type]
        date_question=DATE if anchor == "date" else None,
    )
    return Module(
        id=module_id,
        guide="test",
        phases=phases,
        release=release,
        texts={"sv": ModuleText("sv", module_id, module_id, "Text.")},
        order=order,
    )


GUIDE = Guide(
    id="test",
    title=Text.of(sv="Test"),
    summary=Text.of(sv="Test"),
    languages=("sv",),
    phases=(
        phase("akut", "forsta"),
        phase("forsta", "aret"),
        phase("aret", "arsdag"),
        phase("arsdag", None),
    ),
    modules=(
        module("akut-oppning", ("akut",), 0, order=10),
        module("barn", ("akut",), 0, order=15),
        module("beratta", ("akut", "forsta"), 3, "date"),
        module("reaktioner", ("akut",), 4),
        module("forsta-oppning", ("forsta",), 0, order=10),
        module("hogtider", ("akut", "forsta"), 21, "date"),
        module("fragor", ("forsta", "aret"), 30, "date"),
        module("forsta-30", ("forsta",), 30),
        module("aktivering", ("akut", "forsta", "aret"), 60, "activation"),
        module("aret-oppning", ("aret",), 0, order=10),
        module("aret-80", ("aret",), 80),
        module("arsdag-oppning", ("arsdag",), 0, order=10),
        module("andra-arsdagen", ("arsdag",), 716, "date"),
    ),
    checkins=(
        Checkin(
            id="forsta-dagarna",
            title=Text.of(sv="x"),
            first=Duration(3, "d"),
            questions=(),
            after="phase_start",
            phase="akut",
            every=Duration(5, "d"),
        ),
        Checkin(
            id="hur",
            title=Text.of(sv="x"),
            first=Duration(18, "d"),
            questions=(),
            after="date",
            every=Duration(21, "d"),
            date_question=DATE,
        ),
    ),
)
DATE_ANCHORED = {m.id: m for m in GUIDE.modules if m.release.anchor == "date"}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=STOCKHOLM).astimezone(UTC)


def enrol(activated: datetime, death: date | None, hour: int = 9) -> EnrolmentState:
    profile = {} if death is None else {DATE: death.isoformat()}
    return EnrolmentState.enrol(activated, "akut", profile=profile, preferred_hour=hour)


def walk(state: EnrolmentState, days: int = 800) -> Journey:
    return simulate(GUIDE, state, state.activated_at + timedelta(days=days))


def releases(journey: Journey) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for event in journey.events:
        if event.kind == "release":
            assert event.id not in found, f"{event.id} released twice"
            found[event.id] = event.at
    return found


def phase_at(journey: Journey, moment: datetime) -> str:
    current = journey.state.phase_history[0].phase
    for visit in journey.state.phase_history:
        if visit.started_at <= moment:
            current = visit.phase
    return current


# --- resolving an anchor ---------------------------------------------------------------


def test_an_anchor_on_a_date_counts_from_the_start_of_that_local_day() -> None:
    activated = local("2026-03-10 14:37")
    moment = anchor_moment(DATE, {DATE: "2026-02-01"}, activated, STOCKHOLM)
    assert moment == local("2026-02-01 00:00")
    assert due_time(moment, Duration(3, "d"), STOCKHOLM) == local("2026-02-04 09:00")


def test_a_skipped_or_unreadable_date_falls_back_to_activation() -> None:
    activated = local("2026-03-10 14:37")
    for answers in ({}, {DATE: ""}, {DATE: "snart"}, {DATE: 3}):
        assert anchor_moment(DATE, answers, activated, STOCKHOLM) == activated
    assert anchor_moment(None, {DATE: "2026-02-01"}, activated, STOCKHOLM) == activated
    assert anchor_moment("activation", {DATE: "2026-02-01"}, activated, STOCKHOLM) == activated
    assert answered_date({DATE: "2026-02-01"}, DATE) == date(2026, 2, 1)


def test_days_from_a_date_land_at_the_preferred_hour_across_the_spring_change() -> None:
    moment = anchor_moment(DATE, {DATE: "2026-03-20"}, local("2026-03-20 12:00"), STOCKHOLM)
    due = due_time(moment, Duration(10, "d"), STOCKHOLM, 9)
    assert due == local("2026-03-30 09:00") and due.astimezone(UTC).hour == 7


# --- whole journeys --------------------------------------------------------------------


def test_enrolled_on_the_day_of_the_death_every_text_comes_on_its_day() -> None:
    journey = walk(enrol(local("2026-02-16 14:37"), date(2026, 2, 16)))
    got = {
        key: value.astimezone(STOCKHOLM).strftime("%m-%d %H:%M")
        for key, value in releases(journey).items()
    }
    assert got == {
        "akut-oppning": "02-16 14:37",
        "barn": "02-16 14:37",
        "beratta": "02-19 09:00",
        "reaktioner": "02-20 09:00",
        "forsta-oppning": "03-02 09:00",
        "hogtider": "03-09 09:00",
        "fragor": "03-18 09:00",
        "forsta-30": "04-01 09:00",
        "aktivering": "04-17 09:00",
        "aret-oppning": "05-31 09:00",
        "aret-80": "08-19 09:00",
        "arsdag-oppning": "02-02 09:00",  # 2027: two weeks before the anniversary
        "andra-arsdagen": "02-02 09:00",  # 2028: two weeks before the second
    }


def test_enrolled_forty_days_after_the_death_starts_in_the_implied_phase_without_backlog() -> None:
    activated = local("2026-03-28 14:37")  # the death was on 16 February
    journey = walk(enrol(activated, date(2026, 2, 16)), days=700)
    got = releases(journey)
    assert phase_at(journey, activated) == "forsta"
    opening = sorted(key for key, moment in got.items() if moment == activated)
    assert opening == ["forsta-oppning"]
    # The backlog never comes; the rest comes on the days the date gives.
    for backlog in ("akut-oppning", "barn", "beratta", "reaktioner", "hogtider", "fragor"):
        assert backlog not in got
    assert got["forsta-30"] == local("2026-04-01 09:00")  # 30 days after the phase's real start
    assert got["aret-oppning"] == local("2026-05-31 09:00")
    assert got["arsdag-oppning"] == local("2027-02-02 09:00")
    assert got["andra-arsdagen"] == local("2028-02-02 09:00")
    # The first-days check-in belongs to a phase already over; the date's one keeps its days.
    opened = [e for e in journey.events if e.kind == "checkin"]
    assert {e.id for e in opened} == {"hur"}
    assert opened[0].at == local("2026-04-17 09:00")  # day 60 = 18 + 2 * 21


def test_without_a_date_the_journey_runs_as_if_the_date_were_the_day_of_activation() -> None:
    activated = local("2026-02-16 14:37")
    skipped = walk(enrol(activated, None))
    same_day = walk(enrol(activated, activated.date()))
    assert skipped.events == same_day.events


def test_a_date_corrected_later_moves_what_is_unreleased_and_releases_nothing_twice() -> None:
    activated = local("2026-02-16 14:37")
    first = simulate(GUIDE, enrol(activated, date(2026, 2, 16)), local("2026-03-20 12:00"))
    assert "fragor" in releases(first) and "forsta-30" not in releases(first)
    # The relative corrects the date: it was ten days earlier.
    corrected = replace(first.state, profile={DATE: "2026-02-06"})
    rest = simulate(
        GUIDE, corrected, activated + timedelta(days=800), start=local("2026-03-20 12:00")
    )
    later = releases(rest)
    assert not set(later) & set(releases(first))
    assert later["forsta-30"] == local("2026-03-22 09:00")  # 14 + 30 days after 6 February
    assert later["arsdag-oppning"] == local("2027-01-23 09:00")


def test_a_checkin_counted_from_the_date_opens_only_after_activation() -> None:
    activated = local("2026-03-20 14:37")
    decided = plan(GUIDE, enrol(activated, date(2026, 2, 16)), activated)
    # Day 18 (6 March) came before activation: it is not opened late.
    assert [c.checkin_id for c in decided.checkins] == []
    assert decided.next_due_at == local("2026-03-27 09:00")  # day 39 = 18 + 21
    later = plan(GUIDE, enrol(activated, date(2026, 2, 16)), local("2026-03-27 09:00"))
    assert [(c.checkin_id, c.due_at) for c in later.checkins] == [
        ("hur", local("2026-03-27 09:00").astimezone(UTC))
    ]
