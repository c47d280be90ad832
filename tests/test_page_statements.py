"""Min guide and GET /api/v1/me/journey: a few statements whatever the journey, no planner.

The next module's date is stored by whoever plans (the release pass, enrolment,
answers); the pages read it. Statements are counted with a SQLAlchemy
`before_cursor_execute` listener on the app's engine, as tests/bench/common.py does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from guide.extensions import db
from guide.models import Enrolment
from guide.models.base import end_read, utcnow
from guide.services.journey import state_of
from guide.services.library import current_library
from guide.services.login import create_login_token
from scheduler.jobs import release_due
from scheduler.planner import plan
from tests.checkin_support import relative_token
from tests.factories import enrol, enrol_in_account, issue_cards, make_tenant


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def lived_journeys(days: int = 40) -> list[Enrolment]:
    """A relative with two guides, `days` of release passes behind them."""
    start = utcnow() - timedelta(days=days)
    tenant = make_tenant()
    first, second = issue_cards(tenant.unit, 2, now=start)
    enrolments = [
        enrol(first, now=start, profile={"bor-ihop": True}),
        enrol_in_account(second, now=start + timedelta(days=3)),
    ]
    for day in range(days + 1):
        release_due(db.session, current_library(), start + timedelta(days=day, hours=1))
    db.session.expire_all()
    return enrolments


def test_the_journey_api_and_min_guide_take_four_statements_and_no_planner(
    app: Flask, client: FlaskClient, monkeypatch: Any
) -> None:
    enrolments = lived_journeys()
    relative = enrolments[0].relative
    assert len(enrolments[0].releases) >= 3
    headers = relative_token(relative)
    token = create_login_token(db.session, relative, utcnow(), timedelta(minutes=30))
    db.session.commit()
    client.post(f"/logga-in/{token}")
    db.session.remove()  # a request starts with an empty session, as under gunicorn

    def no_planner(*_args: Any) -> None:
        raise AssertionError("a page ran the planner")

    # plan() looks its helpers up at call time, however it was imported.
    monkeypatch.setattr("scheduler.planner._stays_until", no_planner)
    with counted() as api_statements:
        journey = app.test_client().get("/api/v1/me/journey", headers=headers)  # no cookie
    db.session.remove()
    with counted() as page_statements:
        page = client.get("/min-guide/")

    assert journey.status_code == 200 and page.status_code == 200
    listed = journey.get_json()["enrolments"]
    assert len(listed) == 2 and all(e["released"] for e in listed)
    assert any(e["open_checkins"] for e in listed)
    assert "Dina avsnitt" in page.get_data(as_text=True)
    assert len(api_statements) <= 4, api_statements
    assert len(page_statements) <= 4, page_statements


def test_the_pages_show_the_next_module_date_the_last_plan_stored(
    app: Flask, client: FlaskClient
) -> None:
    enrolment = lived_journeys(days=2)[0]
    stored = datetime(2031, 1, 2, 8, 0, tzinfo=UTC)
    enrolment.next_module_at = stored
    db.session.commit()
    journey = client.get("/api/v1/me/journey", headers=relative_token(enrolment.relative))
    shown = {e["enrolment"]: e["next_module_at"] for e in journey.get_json()["enrolments"]}
    assert shown[enrolment.id] == stored.isoformat()


def test_enrolment_and_every_release_pass_store_the_planners_next_module_date(
    app: Flask,
) -> None:
    start = datetime(2026, 5, 4, 11, 20, tzinfo=UTC)
    tenant = make_tenant()
    enrolment = enrol(
        issue_cards(tenant.unit, 1, now=start)[0], now=start, profile={"bor-ihop": True}
    )
    guide = current_library().guide(enrolment.guide_id)
    assert enrolment.next_module_at is not None
    assert enrolment.next_module_at == plan(guide, state_of(enrolment), start).next_module_at
    planned = 0
    for day in range(1, 30):
        now = start + timedelta(days=day)
        due = enrolment.next_due_at is not None and enrolment.next_due_at <= now
        before = enrolment.next_module_at
        expected = plan(guide, state_of(enrolment), now).next_module_at
        release_due(db.session, current_library(), now)
        db.session.expire_all()
        assert enrolment.next_module_at == (expected if due else before)
        planned += due
    assert planned >= 3  # check-ins, modules and a phase change


def test_the_journey_pages_end_their_read_with_a_commit_and_write_nothing(
    app: Flask, client: FlaskClient
) -> None:
    """psycopg forgets its prepared statements at a ROLLBACK: the pages end with COMMIT."""
    relative = lived_journeys(days=5)[0].relative
    headers = relative_token(relative)
    token = create_login_token(db.session, relative, utcnow(), timedelta(minutes=30))
    db.session.commit()
    client.post(f"/logga-in/{token}")
    db.session.remove()
    ended: list[str] = []
    sa.event.listen(db.engine, "commit", lambda _conn: ended.append("commit"))
    sa.event.listen(db.engine, "rollback", lambda _conn: ended.append("rollback"))
    with counted() as statements:
        assert app.test_client().get("/api/v1/me/journey", headers=headers).status_code == 200
        assert client.get("/min-guide/").status_code == 200
    assert ended == ["commit", "commit"]
    assert not [s for s in statements if not s.lstrip().upper().startswith("SELECT")]


def test_end_read_refuses_a_request_that_changed_something(app: Flask) -> None:
    enrolment = lived_journeys(days=1)[0]
    enrolment.next_module_at = None
    with pytest.raises(RuntimeError, match="changed objects"):
        end_read(db.session)


def test_the_module_page_loads_the_enrolment_and_the_relative_once(
    app: Flask, client: FlaskClient
) -> None:
    """It commits the read mark after rendering: nothing it read is loaded again."""
    enrolment = lived_journeys(days=5)[0]
    relative = enrolment.relative
    token = create_login_token(db.session, relative, utcnow(), timedelta(minutes=30))
    db.session.commit()
    client.post(f"/logga-in/{token}")
    path = f"/min-guide/{enrolment.id}/{enrolment.releases[0].module_id}"
    db.session.remove()
    for _ in ("marks it read", "already read"):
        with counted() as statements:
            assert client.get(path).status_code == 200
        loads = [s.split("FROM")[1].split()[0] for s in statements if s.startswith("SELECT")]
        assert loads.count("enrolment") == 1 and loads.count("relative") == 1, statements
        db.session.remove()
