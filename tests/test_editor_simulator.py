"""The editors' journey simulator: the shipped journeys' timelines, e-mails, drafts, no writes."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.content.loader import load_library
from guide.extensions import db
from guide.models import StaffRole, StaffUser
from guide.services.accounts import create_staff
from guide.services.simulation import journey_timeline
from tests.conftest import FIXTURE_CONTENT, SHIPPED_CONTENT
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant, staff_token
from tests.test_shipped_journeys import (
    ACTIVATED,
    RELATIVES,
    STOCKHOLM,
    UNTIL,
    expected_lines,
    timeline_lines,
)

SHIPPED = load_library(SHIPPED_CONTENT)


@pytest.mark.parametrize("key", list(RELATIVES), ids=["-".join(key) for key in RELATIVES])
def test_the_simulator_gives_the_shipped_journeys_expected_timelines(key: tuple[str, str]) -> None:
    relative = RELATIVES[key]
    guide = SHIPPED.guide(relative.guide)
    items = journey_timeline(
        guide,
        start=ACTIVATED,
        days=(UNTIL - ACTIVATED).days,
        profile=relative.profile,
        answers={c: [dict(a) for a in answers] for c, answers in relative.script.items()},
    )
    lines = timeline_lines(
        ((i.at, i.kind, i.id) for i in items if i.kind != "email"), guide.first_phase.id
    )
    assert lines == expected_lines(key, ("phase", "release", "checkin"))


def test_every_day_with_something_due_has_one_e_mail_at_the_first_thing_of_that_day() -> None:
    relative = RELATIVES[("demenslots", "svarar")]
    items = journey_timeline(
        SHIPPED.guide("demenslots"),
        start=ACTIVATED,
        days=365,
        profile=relative.profile,
        answers={c: [dict(a) for a in answers] for c, answers in relative.script.items()},
    )
    mails = [i for i in items if i.kind == "email"]
    days = [m.at.astimezone(STOCKHOLM).date() for m in mails]
    assert len(days) == len(set(days))
    due_days = {
        i.at.astimezone(STOCKHOLM).date() for i in items if i.kind in ("release", "checkin")
    }
    assert set(days) == due_days
    assert {m.at.astimezone(STOCKHOLM).strftime("%H:%M") for m in mails[1:]} == {"09:00"}


def test_a_start_phase_begins_with_that_phases_opening_module() -> None:
    items = journey_timeline(
        SHIPPED.guide("demenslots"),
        start=ACTIVATED,
        days=30,
        profile={},
        answers={},
        start_phase="mellan",
    )
    assert items[0].kind == "email" and items[1] == items[1].__class__(
        ACTIVATED, "release", "mellanskedet"
    )


@pytest.fixture
def editors(app: Flask) -> tuple[StaffUser, StaffUser]:
    tenant = make_tenant()
    pair = tuple(
        create_staff(
            db.session, f"{n}@redaktion.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
        )
        for n in ("anna", "bo")
    )
    db.session.commit()
    return pair  # type: ignore[return-value]


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def test_simulate_shows_published_beside_drafts_reaches_relatives_and_writes_nothing(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna = staff_token(editors[0])
    unit = editors[0].organisation.units[0]  # type: ignore[union-attr]
    enrol(issue_cards(unit)[0], "anhorig@example.se")
    db.session.commit()
    rows = client.get("/api/v1/editor/modules?guide=stod", headers=anna).get_json()["modules"]
    base = next(r["live_version"] for r in rows if r["module"] == "extra")
    extra = (FIXTURE_CONTENT / "stod/modules/extra.md").read_text(encoding="utf-8")
    assert "on_demand" in extra
    made = client.post(
        "/api/v1/editor/drafts",
        json={
            "guide": "stod",
            "module": "extra",
            "base_version": base,
            "source": extra.replace("release: {on_demand: true}", "release: {after: 2d}"),
        },
        headers=anna,
    )
    assert made.status_code == 201 and made.get_json()["problems"] == [], made.get_json()
    db.session.commit()
    before = row_counts()
    answer = client.post(
        "/api/v1/editor/simulate",
        json={
            "guide": "stod",
            "profile": {"bor-ihop": "yes"},
            "answers": {},
            "days": 365,
            "include_drafts": True,
        },
        headers=anna,
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    published = [(i["kind"], i["id"]) for i in body["published_timeline"]]
    drafted = [(i["kind"], i["id"]) for i in body["timeline"]]
    assert ("release", "extra") in drafted and ("release", "extra") not in published
    assert {i["kind"] for i in body["timeline"]} <= {"release", "checkin", "phase", "email"}
    assert body["edited_modules"] == ["extra"]
    assert body["relatives_next_7_days"] == 1
    assert row_counts() == before


def test_simulate_refuses_an_unknown_start_phase(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    answer = client.post(
        "/api/v1/editor/simulate",
        json={"guide": "stod", "start_phase": "finns-inte"},
        headers=staff_token(editors[0]),
    )
    assert answer.status_code == 400 and answer.get_json()["error"] == "start_phase_unknown"
