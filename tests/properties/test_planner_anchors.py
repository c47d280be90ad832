"""Properties of date-anchored journeys over random activations, dates and corrections."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from guide.content.model import Duration
from scheduler.planner import due_time
from scheduler.simulate import simulate
from tests.pure.test_planner_anchors import (
    DATE,
    DATE_ANCHORED,
    GUIDE,
    PHASE_STARTS,
    STOCKHOLM,
    enrol,
    phase_at,
    releases,
    walk,
)

activations = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=STOCKHOLM)
)


@settings(max_examples=60, deadline=None)
@given(activated=activations, days_before=st.integers(0, 450), hour=st.integers(8, 20))
@example(activated=datetime(2025, 1, 1, 7, 30, tzinfo=STOCKHOLM), days_before=3, hour=8)
def test_a_dated_journey_never_releases_backlog_twice_or_off_its_day(
    activated: datetime, days_before: int, hour: int
) -> None:
    death = activated.date() - timedelta(days=days_before)
    state = enrol(activated, death, hour)
    journey = walk(state, days=800)
    got = releases(journey)
    start = activated.astimezone(UTC)
    enrol_day = activated.date()

    # The phase the date implies: the last one whose moment (its day, at the hour) has come.
    implied = max(
        (
            p
            for p, days in PHASE_STARTS.items()
            if due_time(state.anchor(DATE), Duration(days, "d"), STOCKHOLM, hour) <= start
        ),
        key=PHASE_STARTS.__getitem__,
    )
    assert phase_at(journey, start) == implied
    for module_id, moment in got.items():
        assert moment >= start
        if moment != start:
            local_moment = moment.astimezone(STOCKHOLM)
            assert (local_moment.hour, local_moment.minute) == (hour, 0)
        spec = GUIDE.module(module_id).release
        if moment == start:
            # At activation only the opening modules and what is due that very day.
            due = due_time(state.anchor(spec.date_question), spec.after, STOCKHOLM, hour)  # type: ignore[arg-type]
            assert (
                spec.after.amount == 0
                or spec.anchor != "date"
                or due.astimezone(STOCKHOLM).date() == enrol_day
            )  # type: ignore[union-attr]
    for module_id, spec_module in DATE_ANCHORED.items():
        day = death + timedelta(days=spec_module.release.after.days)  # type: ignore[union-attr]
        if module_id in got and got[module_id] != start:
            landed = got[module_id].astimezone(STOCKHOLM).date()
            # Due later on the day of activation: that day's e-mail went at activation
            # (one scheduled e-mail a day), so it comes the next morning.
            assert landed == day or (day == enrol_day and landed == day + timedelta(days=1))
        if day < enrol_day:
            assert module_id not in got, "backlog from before activation"
    # Nothing before activation; at most one scheduled e-mail a day.
    moments = {e.at for e in journey.events if e.kind in ("release", "checkin") and e.at != start}
    assert len({m.astimezone(STOCKHOLM).date() for m in moments}) == len(moments)
    assert all(m > start for m in moments)


@settings(max_examples=40, deadline=None)
@given(
    activated=activations,
    days_before=st.integers(0, 200),
    change_after=st.integers(1, 300),
    shift=st.integers(-60, 60),
)
def test_correcting_the_date_never_releases_a_module_twice(
    activated: datetime, days_before: int, change_after: int, shift: int
) -> None:
    death = activated.date() - timedelta(days=days_before)
    corrected = min(death + timedelta(days=shift), activated.date() + timedelta(days=change_after))
    changed_at = activated + timedelta(days=change_after)
    first = simulate(GUIDE, enrol(activated, death), changed_at)
    state = replace(first.state, profile={DATE: corrected.isoformat()})
    rest = simulate(GUIDE, state, changed_at + timedelta(days=800), start=changed_at)
    before, after = releases(first), releases(rest)
    assert not set(before) & set(after)
    for module_id, moment in after.items():
        spec = GUIDE.module(module_id).release
        if spec.anchor != "date":
            continue
        day = corrected + timedelta(days=spec.after.days)  # type: ignore[union-attr]
        released_on = moment.astimezone(STOCKHOLM).date()
        if day > changed_at.date():
            assert released_on == day  # still to come: on the corrected day
        else:
            # Its corrected day has passed since the relative enrolled: it comes with the
            # next e-mail (today's, or tomorrow's if today's has gone), not flooded later.
            assert released_on <= changed_at.date() + timedelta(days=1)
    visits = [visit.started_at for visit in rest.state.phase_history]
    assert visits == sorted(visits), "phases never go back in time"
