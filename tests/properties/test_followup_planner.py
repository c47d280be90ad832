"""Properties of the follow-up calls' times over random anchors and delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from guide.content.model import Duration
from scheduler.followups import followup_due_time
from tests.pure.test_followup_planner import STOCKHOLM


@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=400),
)
def test_every_call_comes_at_nine_on_a_weekday(anchor: datetime, days: int) -> None:
    due = followup_due_time(anchor, Duration(days, "d"), STOCKHOLM).astimezone(STOCKHOLM)
    assert due.weekday() < 5
    assert (due.hour, due.minute) == (9, 0)
    calendar_day = anchor.astimezone(STOCKHOLM).date() + timedelta(days=days)
    assert 0 <= (due.date() - calendar_day).days <= 2
