"""Properties of due times over random anchors, delays and preferred hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from guide.content.model import Duration
from scheduler.planner import due_time
from tests.pure.test_planner import STOCKHOLM, days

anchors = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(anchor=anchors, n=st.integers(1, 800), hour=st.integers(8, 20))
def test_days_always_land_on_local_date_plus_n_at_preferred_hour(
    anchor: datetime, n: int, hour: int
) -> None:
    local_due = due_time(anchor, days(n), STOCKHOLM, hour).astimezone(STOCKHOLM)
    assert local_due.date() == anchor.astimezone(STOCKHOLM).date() + timedelta(days=n)
    assert (local_due.hour, local_due.minute) == (hour, 0)


@given(anchor=anchors, n=st.integers(1, 100))
def test_hours_are_never_early_and_never_quiet(anchor: datetime, n: int) -> None:
    due = due_time(anchor, Duration(n, "h"), STOCKHOLM)
    assert due >= anchor + timedelta(hours=n)
    assert 8 <= due.astimezone(STOCKHOLM).hour < 21
