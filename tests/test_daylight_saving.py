"""Daylight saving through the database path: what falls due across a clock change arrives at 09:00 local.

Sweden moves its clocks on the last Sunday of March (02:00 becomes 03:00) and of
October (03:00 becomes 02:00). Seven days are seven local calendar days whatever
the clocks do, so a module due on the other side of a change must come at the
relative's preferred hour in local time, which is a different hour in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from guide.extensions import db
from guide.models import CheckinInstance, Enrolment, Release
from guide.services.library import current_library
from scheduler.jobs import release_due
from tests.conftest import at
from tests.factories import enrol, issue_cards, make_tenant


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def enrolled_at(moment: datetime, preferred_hour: int = 9) -> Enrolment:
    tenant = make_tenant()
    (card,) = issue_cards(tenant.unit, 1, now=moment)
    enrolment = enrol(card, now=moment, profile={"bor-ihop": True})
    enrolment.preferred_hour = preferred_hour
    db.session.commit()
    return enrolment


def enrolment_zone(enrolment: Enrolment) -> ZoneInfo:
    return ZoneInfo(enrolment.timezone)


def release_at(moment: datetime) -> int:
    return release_due(db.session, current_library(), moment).enrolments


def released_at(enrolment: Enrolment, module_id: str) -> datetime | None:
    return db.session.scalar(
        select(Release.released_at).where(
            Release.enrolment_id == enrolment.id, Release.module_id == module_id
        )
    )


def walk_until(enrolment: Enrolment, until: datetime) -> None:
    """Run a release pass at each next due moment, as the scheduler would."""
    while enrolment.next_due_at is not None and enrolment.next_due_at <= until:
        release_at(enrolment.next_due_at)


@pytest.mark.parametrize(
    ("activated", "avlosning_utc", "avlosning_local"),
    [
        # Late on the Saturday before summer time: due on the following Saturday.
        (at("2026-03-28 22:10"), "2026-04-04 07:00", "2026-04-04 09:00"),
        # Early on the Sunday of the change, an hour after the clocks went forward.
        (at("2026-03-29 03:30"), "2026-04-05 07:00", "2026-04-05 09:00"),
        # Late on the Saturday before winter time.
        (at("2026-10-24 23:30"), "2026-10-31 08:00", "2026-10-31 09:00"),
        # In the first of the two 02:30s of the night the clocks go back (still summer time).
        (utc("2026-10-25 00:30"), "2026-11-01 08:00", "2026-11-01 09:00"),
        # In the second 02:30 (already winter time): the same local day, the same answer.
        (utc("2026-10-25 01:30"), "2026-11-01 08:00", "2026-11-01 09:00"),
    ],
)
def test_a_module_due_across_a_clock_change_arrives_at_nine_local(
    app: Flask, activated: datetime, avlosning_utc: str, avlosning_local: str
) -> None:
    enrolment = enrolled_at(activated)
    due = utc(avlosning_utc)
    walk_until(enrolment, due - timedelta(seconds=1))
    assert released_at(enrolment, "avlosning") is None  # not an hour early

    release_at(due)

    released = released_at(enrolment, "avlosning")
    assert released == due
    assert released.astimezone(enrolment_zone(enrolment)).strftime("%Y-%m-%d %H:%M") == (
        avlosning_local
    )


def test_every_release_and_checkin_of_a_spring_enrolment_comes_at_nine_local(app: Flask) -> None:
    enrolment = enrolled_at(at("2026-03-27 16:45"))
    walk_until(enrolment, at("2026-05-01 00:00"))
    zone = enrolment_zone(enrolment)
    moments = [r.released_at for r in enrolment.releases if r.module_id != "valkommen"]
    moments += list(db.session.scalars(select(CheckinInstance.opened_at)))
    local = sorted(m.astimezone(zone).strftime("%Y-%m-%d %H:%M") for m in moments)
    assert local == [
        "2026-03-30 09:00",  # hur-gar-det, 3 days: the first Monday of summer time
        "2026-04-03 09:00",  # avlosning, 7 days
        "2026-04-10 09:00",  # sedan: the phase start ends after 14 days, and its module opens
        "2026-04-29 09:00",  # hur-gar-det again, 30 days later
    ]
    assert {m.astimezone(UTC).hour for m in moments} == {7}  # 09:00 CEST is 07:00 UTC


def test_the_preferred_hour_is_kept_across_the_autumn_change(app: Flask) -> None:
    enrolment = enrolled_at(at("2026-10-22 10:00"), preferred_hour=18)
    walk_until(enrolment, at("2026-11-06 00:00"))
    zone = enrolment_zone(enrolment)
    local = {
        r.module_id: r.released_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        for r in enrolment.releases
    }
    assert local["avlosning"] == "2026-10-29 18:00"  # 17:00 UTC, where it was 16:00 UTC before
    assert local["sedan"] == "2026-11-05 18:00"
    assert released_at(enrolment, "avlosning") == utc("2026-10-29 17:00")
