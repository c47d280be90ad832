"""Follow-up calls exactly once on PostgreSQL: four processes at once, and the unique backstop.

The release pass claims enrolments with FOR UPDATE SKIP LOCKED, so two processes
never advance the same enrolment at once; the `followup_call` row's unique key with
an ON CONFLICT DO NOTHING insert makes a second case impossible even if they did.
Both are shown here: four OS processes racing over the same due enrolments, and two
sessions made to handle the same enrolment at the same moment without any lock.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from guide.extensions import db
from guide.models import Alert, Enrolment, FollowupCall
from guide.services.followup_calls import raise_due_followups
from guide.services.journey import published_version
from guide.services.library import current_library
from tests.conftest import POSTGRES_URL, TEST_ENVIRONMENT, at
from tests.factories import make_tenant
from tests.synthetic import create_enrolments
from tests.test_followup_calls import FOLLOWUP_CONTENT

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_URL, reason="set GUIDE_TEST_POSTGRES_URL to race on PostgreSQL"
    ),
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]

PROCESSES = 4
RACING = 600
ACTIVATED = at("2026-06-01 10:00")  # a Monday
NOW = at("2026-06-04 10:00")  # the 3d call fell due at 09:00 today
BARRIER_TIMEOUT = 180


@pytest.fixture
def content_dir() -> Path:
    return FOLLOWUP_CONTENT


@dataclass(frozen=True)
class Settings:
    database_url: str


def run_passes(settings: Settings, start: Any, results: Any) -> None:
    """Worker: release passes at NOW until nothing is left, then report what it did."""
    from guide import create_app
    from scheduler.jobs import release_due

    os.environ.update(
        {
            **TEST_ENVIRONMENT,
            "GUIDE_DATABASE_URL": settings.database_url,
            "GUIDE_CONTENT_DIR": str(FOLLOWUP_CONTENT),
        }
    )
    app = create_app()
    totals: Counter[str] = Counter()
    with app.app_context():
        start.wait(timeout=BARRIER_TIMEOUT)
        while True:
            report = release_due(db.session, current_library(), NOW, batch_size=25)
            totals.update(enrolments=report.enrolments, failed=len(report.failed))
            if report.enrolments == 0:
                break
    results.put(dict(totals))


def make_due_enrolments(count: int) -> None:
    """`count` relatives enrolled on Monday; every fourth has not consented to contact."""
    tenant = make_tenant()
    guide = current_library().guide("stod")
    opening = published_version(db.session, guide.module("valkommen"))
    db.session.commit()
    with db.engine.begin() as connection:
        create_enrolments(
            connection,
            prefix="call",
            count=count,
            organisation_id=tenant.organisation.id,
            unit_id=tenant.unit.id,
            guide_id="stod",
            phase="start",
            activated_at=ACTIVATED,
            next_due_at=ACTIVATED,
            opening_module=("valkommen", opening.id),
        )
        connection.execute(
            text(
                "INSERT INTO consent (relative_id, purpose, version, granted, recorded_at) "
                "SELECT id, 'contact', '1', id % 4 <> 0, :at FROM relative"
            ),
            {"at": ACTIVATED},
        )


def test_four_processes_make_each_call_exactly_once(app: Flask) -> None:
    make_due_enrolments(RACING)
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(PROCESSES), context.Queue()
    settings = Settings(app.config["SQLALCHEMY_DATABASE_URI"])
    processes = [
        context.Process(target=run_passes, args=(settings, start, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=BARRIER_TIMEOUT) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sum(r.get("failed", 0) for r in reports) == 0
    assert sum(r.get("enrolments", 0) for r in reports) >= RACING
    db.session.expire_all()

    calls = db.session.execute(
        select(FollowupCall.enrolment_id, FollowupCall.followup_id, FollowupCall.outcome)
    ).all()
    assert len(calls) == RACING
    assert len({(e, f) for e, f, _ in calls}) == RACING
    outcomes = Counter(outcome for _, _, outcome in calls)
    consenting = db.session.scalar(
        text("SELECT count(*) FROM consent WHERE purpose = 'contact' AND granted")
    )
    assert outcomes == {"case": consenting, "offered": RACING - consenting}
    per_enrolment = db.session.execute(
        select(Alert.enrolment_id, func.count()).group_by(Alert.enrolment_id)
    ).all()
    assert len(per_enrolment) == consenting
    assert {n for _, n in per_enrolment} == {1}
    print(
        f"\n{PROCESSES} processes, {RACING} enrolments: {consenting} cases, "
        f"{RACING - consenting} offers, work per process {[r.get('enrolments') for r in reports]}"
    )


def test_two_sessions_handling_the_same_enrolment_at_once_make_one_case(app: Flask) -> None:
    make_due_enrolments(1)
    guide = current_library().guide("stod")
    enrolment_id = db.session.scalar(select(Enrolment.id))

    def load(session: Session) -> Enrolment:
        return session.scalars(
            select(Enrolment)
            .where(Enrolment.id == enrolment_id)
            .options(selectinload(Enrolment.followup_calls), selectinload(Enrolment.relative))
        ).one()

    first, second = Session(db.engine), Session(db.engine)
    try:
        made_first = raise_due_followups(first, guide, load(first), NOW)  # not committed yet
        outcome: dict[str, Any] = {}

        def race() -> None:
            # Its insert waits for the first transaction's key, then does nothing.
            outcome["second"] = raise_due_followups(second, guide, load(second), NOW)
            second.commit()

        racer = threading.Thread(target=race)
        racer.start()
        racer.join(timeout=2)
        assert racer.is_alive(), "the second insert should wait for the first transaction"
        first.commit()
        racer.join(timeout=30)
        assert not racer.is_alive()
    finally:
        first.close()
        second.close()
    assert made_first.alert is not None
    assert outcome["second"].alert is None and outcome["second"].cases == ()
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1
    assert db.session.scalar(select(func.count()).select_from(FollowupCall)) == 1
