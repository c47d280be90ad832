"""The queue's statistics: share contacted within target, median time to first contact."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from guide.extensions import db
from guide.services.followup import mark_contacted, raise_alert
from guide.services.followup_stats import contact_figures
from tests.conftest import at
from tests.factories import enrol, issue_cards, make_tenant

CAME_IN = at("2026-03-03 10:00")  # Tuesday; the default target is 10 March 17:00
PERIOD = (at("2026-03-01 00:00"), at("2026-04-01 00:00"))


def cases(tenant, count: int, unit=None):  # type: ignore[no-untyped-def]
    made = []
    for n in range(count):
        card = issue_cards(unit or tenant.unit, now=CAME_IN)[0]
        enrolment = enrol(card, f"a{n}-{id(unit)}@example.se", now=CAME_IN)
        made.append(
            raise_alert(
                db.session, enrolment, priority="normal", source="rule", reason="x", now=CAME_IN
            )
        )
    db.session.commit()
    return made


def test_share_within_target_and_median_time_to_first_contact_per_unit(app: Flask) -> None:
    tenant = make_tenant()
    alerts = cases(tenant, 7)
    # Five contacted after 1, 2, 3, 4 and 200 hours (the last after the target).
    for alert, hours in zip(alerts, (1, 2, 3, 4, 200), strict=False):
        mark_contacted(db.session, tenant.staff, alert, "", CAME_IN + timedelta(hours=hours))
    db.session.commit()
    now = at("2026-03-20 12:00")  # the two never contacted are past their target too
    (figures,) = contact_figures(db.session, tenant.organisation.id, *PERIOD, now)
    assert (figures.cases, figures.decided, figures.within_target) == (7, 7, 4)
    assert figures.median_to_first_contact == timedelta(hours=3)
    assert figures.shown() == {
        "unit": "Anhörigstöd",
        "cases": 7,
        "within_target": "<5",
        "share_within_target": round(4 / 7, 3),
        "median_hours_to_first_contact": 3.0,
    }


def test_open_cases_before_their_target_are_not_yet_counted_as_late(app: Flask) -> None:
    tenant = make_tenant()
    cases(tenant, 6)
    (figures,) = contact_figures(
        db.session, tenant.organisation.id, *PERIOD, at("2026-03-05 12:00")
    )
    assert (figures.cases, figures.decided) == (6, 0)
    assert figures.share_within_target is None


def test_small_units_are_suppressed_and_units_are_kept_apart(app: Flask) -> None:
    tenant = make_tenant()
    cases(tenant, 2, unit=tenant.other_unit)
    cases(tenant, 5)
    now = at("2026-03-20 12:00")
    figures = contact_figures(db.session, tenant.organisation.id, *PERIOD, now)
    shown = {f.unit_name: f.shown() for f in figures}
    assert shown["Psykiatrin"] == {
        "unit": "Psykiatrin",
        "cases": "<5",
        "within_target": 0,
        "share_within_target": None,
        "median_hours_to_first_contact": None,
    }
    assert shown["Anhörigstöd"]["cases"] == 5
    only = contact_figures(
        db.session, tenant.organisation.id, *PERIOD, now, unit_id=tenant.other_unit.id
    )
    assert [f.unit_name for f in only] == ["Psykiatrin"]
    other_period = contact_figures(
        db.session, tenant.organisation.id, at("2026-04-01 00:00"), at("2026-05-01 00:00"), now
    )
    assert other_period == []
