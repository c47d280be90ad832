"""The set-based release pass (guide/services/release_batch.py) against the per-enrolment one.

Two proofs over random populations of the shipped guides (tests/population.py):

- in memory, on every backend: planning through the pass's compiled guides and its
  plan memo decides exactly what the planner decides directly, state by state;
- on PostgreSQL: the same population, built twice, advanced once by today's
  per-enrolment pass and once by the set-based one, leaves identical rows in release,
  event, checkin_instance, phase_visit and outbox_message and identical enrolments.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from guide.content.indexed import indexed
from guide.content.loader import load_library
from guide.content.model import Guide, Library
from guide.services import release_batch
from guide.services.release_batch import (
    CompiledLibrary,
    _Claimed,
    handles,
    state_from,
    writer_plan,
)
from scheduler.planner import DueCheckin, Plan, plan
from tests.conftest import POSTGRES_URL
from tests.population import Spec, random_specs

SHIPPED = Path(__file__).resolve().parents[1] / "content"
NOW = datetime(2026, 10, 26, 8, 30, tzinfo=UTC)  # the Monday after the clocks went back
_LIBRARY: list[Library] = []


def shipped_library() -> Library:
    if not _LIBRARY:
        _LIBRARY.append(load_library(SHIPPED))
    return _LIBRARY[0]


def claimed_of(spec: Spec, enrolment_id: int = 1) -> _Claimed:
    """A claimed row as claim_batch reads it (JSON columns as text), from a spec.

    It holds the columns the planner's state can depend on (STATE_COLUMNS).
    """
    row = SimpleNamespace(
        id=enrolment_id,
        guide_id=spec.guide_id,
        activated_at=spec.activated_at,
        timezone=spec.timezone,
        preferred_hour=spec.preferred_hour,
        profile=json.dumps(spec.profile),
        answers=json.dumps(spec.answers),
        muted=json.dumps(spec.muted),
        checkins_opened=json.dumps({k: v.isoformat() for k, v in spec.opened.items()}),
        last_email_on=spec.last_email_on,
        status="active",
        paused_at=None,
    )
    visits = sorted([(spec.start_phase, spec.activated_at), *spec.later_phases], key=lambda v: v[1])
    return _Claimed(row, visits, set(spec.released))


# -- in memory: compiled guides and the plan memo -------------------------------------


def test_an_indexed_guide_answers_every_lookup_as_the_guide_does() -> None:
    for guide in shipped_library().guides.values():
        fast = indexed(guide)
        assert all(getattr(fast, f.name) == getattr(guide, f.name) for f in fields(Guide))
        for phase in guide.phases:
            assert fast.phase(phase.id) is guide.phase(phase.id)
            assert fast.has_phase(phase.id)
        for module in guide.modules:
            assert fast.module(module.id) is guide.module(module.id)
            assert fast.has_module(module.id)
        for checkin in guide.checkins:
            assert fast.checkin(checkin.id) is guide.checkin(checkin.id)
        assert not fast.has_module("finns-inte") and not fast.has_phase("finns-inte")
        with pytest.raises(KeyError, match="no module 'finns-inte'"):
            fast.module("finns-inte")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), distinct=st.integers(1, 30), hours=st.integers(0, 2000))
def test_memoised_planning_decides_what_direct_planning_decides(
    seed: int, distinct: int, hours: int
) -> None:
    """Random states, many of them repeated (a cohort), planned through the memo and directly.

    Both the plan and the writer's plan (the follow-up calls handled counted in, a random
    few each time) are compared.
    """
    library = shipped_library()
    now = NOW + timedelta(hours=hours)
    pool = random_specs(seed, library, now, distinct)
    rng = random.Random(seed)
    compiled = CompiledLibrary(library)
    for number in range(3 * distinct):
        spec = rng.choice(pool)
        claimed = claimed_of(spec, number)
        guide = library.guide(spec.guide_id)
        claimed.calls = frozenset(f.id for f in guide.followups if rng.random() < 0.3)
        direct_state = state_from(claimed)
        direct_plan = plan(guide, direct_state, now)
        assert compiled.decision(claimed, now) == (direct_state, direct_plan)
        direct = writer_plan(indexed(guide), direct_state, direct_plan, claimed.calls, now)
        assert compiled.batch_decision(claimed, now) == (direct_state, direct)
    assert len(compiled.plans) <= distinct


def test_the_test_rows_hold_every_column_the_state_can_depend_on() -> None:
    spec = random_specs(2, shipped_library(), NOW, 1)[0]
    row = claimed_of(spec).row
    assert set(release_batch.STATE_COLUMNS) <= set(vars(row))


def test_a_state_read_the_pass_does_not_know_sends_the_enrolment_to_the_reference_path() -> None:
    spec = random_specs(3, shipped_library(), NOW, 1)[0]
    view = release_batch._EnrolmentView(claimed_of(spec), json.loads)
    with pytest.raises(AttributeError, match=r"does not read Enrolment\.card"):
        view.card  # noqa: B018


def test_a_plan_memo_key_tells_true_from_one() -> None:
    """A stored `true` and a stored `1` are different states; the memo never confuses them."""
    library = shipped_library()
    spec = random_specs(1, library, NOW, 1)[0]
    as_true = claimed_of(spec)
    as_true.row.answers = json.dumps({"x": True})
    as_one = claimed_of(spec)
    as_one.row.answers = json.dumps({"x": 1})
    assert release_batch.memo_key(as_true, NOW) != release_batch.memo_key(as_one, NOW)


def test_a_plan_with_an_effect_the_writer_does_not_know_goes_to_the_reference_path() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class LaterPlan(Plan):  # what another issue might add to the planner's decisions
        follow_ups: tuple[str, ...] = ()

    base = dict(phase_changes=(), releases=(), next_due_at=None, next_module_at=None)
    opened = (DueCheckin("hur-gar-det", NOW),)
    assert handles(Plan(checkins=opened, **base))  # type: ignore[arg-type]
    assert handles(LaterPlan(checkins=opened, **base))  # type: ignore[arg-type]
    assert not handles(LaterPlan(checkins=(), follow_ups=("samtal",), **base))  # type: ignore[arg-type]


# -- on PostgreSQL: the two passes write the same rows ----------------------------------


@pytest.fixture
def content_dir() -> Path:
    return SHIPPED


def build(specs: list[Spec]) -> None:
    """Write the population through the product's own redemption, then set each state."""
    from guide.extensions import db
    from guide.models import CheckinInstance, PhaseVisitRow
    from guide.services.journey import release_module
    from guide.services.library import current_library
    from tests.factories import enrol, issue_cards, make_tenant

    library = current_library()
    tenant = make_tenant("slumpen")
    earliest = min(spec.activated_at for spec in specs) - timedelta(days=1)
    for number, spec in enumerate(specs):
        card = issue_cards(
            tenant.unit, 1, guide=spec.guide_id, phase=spec.start_phase, now=earliest
        )[0]
        enrolment = enrol(card, f"slump{number}@example.se", spec.activated_at, spec.profile)
        guide = library.guide(spec.guide_id)
        enrolment.timezone = spec.timezone
        enrolment.preferred_hour = spec.preferred_hour
        enrolment.answers = spec.answers
        enrolment.muted = spec.muted
        for phase, started in spec.later_phases:
            enrolment.phase_visits.append(
                PhaseVisitRow(phase=phase, started_at=started, reason="rule")
            )
        for module_id in spec.released:
            release_module(db.session, enrolment, guide.module(module_id), spec.activated_at)
        opened = dict(enrolment.checkins_opened or {})
        for checkin_id, due in spec.opened.items():
            opened[checkin_id] = due.isoformat()
            db.session.add(
                CheckinInstance(
                    enrolment_id=enrolment.id, checkin_id=checkin_id, due_at=due, opened_at=due
                )
            )
        enrolment.checkins_opened = opened
        enrolment.last_email_on = spec.last_email_on
        enrolment.notified_phase = spec.notified_phase
        enrolment.next_due_at = spec.next_due_at
        if spec.email_paused:
            enrolment.relative.email_paused_at = spec.activated_at
        db.session.commit()


def snapshot() -> dict[str, Any]:
    """The rows a release pass writes, with generated ids replaced by what they name."""
    from guide.extensions import db

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in db.session.execute(sa.text(sql))]

    releases = {
        rid: f"r:{eid}:{mid}"
        for rid, eid, mid in rows("SELECT id, enrolment_id, module_id FROM release")
    }
    checkins = {
        cid: f"c:{eid}:{kid}:{due.isoformat()}"
        for cid, eid, kid, due in rows(
            "SELECT id, enrolment_id, checkin_id, due_at FROM checkin_instance"
        )
    }

    def outbox(row: tuple[Any, ...]) -> tuple[Any, ...]:
        key, kind, payload, *rest = row
        if kind == "notice":
            payload = dict(payload)
            payload["releases"] = [releases[i] for i in payload["releases"]]
            payload["checkins"] = [checkins[i] for i in payload["checkins"]]
            head, enrolment, parts = key.split(":", 2)
            key = (
                head,
                enrolment,
                [
                    releases[int(p[1:])] if p[0] == "r" else checkins[int(p[1:])]
                    for p in parts.split("-")
                ],
            )
        return (repr(key), kind, json.dumps(payload, sort_keys=True), *rest)

    taken = {
        "release": sorted(
            rows(
                "SELECT r.enrolment_id, r.module_id, v.content_hash, r.due_at, r.released_at,"
                " r.reason, r.read_at FROM release r JOIN module_version v"
                " ON v.id = r.module_version_id"
            )
        ),
        # In order per enrolment: the events of one advance come in the order they happened.
        "event": rows(
            "SELECT enrolment_id, kind, at, CAST(data AS text) FROM event ORDER BY enrolment_id, id"
        ),
        "checkin_instance": sorted(
            rows(
                "SELECT enrolment_id, checkin_id, due_at, opened_at, answered_at, expired_at"
                " FROM checkin_instance"
            ),
            key=repr,
        ),
        "phase_visit": rows(
            "SELECT enrolment_id, phase, started_at, reason FROM phase_visit"
            " ORDER BY enrolment_id, id"
        ),
        "outbox_message": sorted(
            (
                outbox(row)
                for row in rows(
                    "SELECT idempotency_key, kind, payload, relative_id, enrolment_id,"
                    " recipient, status, attempts, next_attempt_at, created_at"
                    " FROM outbox_message"
                )
            ),
            key=repr,
        ),
        "enrolment": rows(
            "SELECT id, status, next_due_at, next_module_at, last_email_on, notified_phase,"
            " CAST(checkins_opened AS text), CAST(muted AS text) FROM enrolment ORDER BY id"
        ),
    }
    db.session.rollback()
    # Events compare as JSON, not as the text each writer happened to produce; card
    # codes are drawn at random when the cards are issued.
    taken["event"] = [
        (e, k, at, _without_card(json.loads(data))) for e, k, at, data in taken["event"]
    ]
    return taken


def _without_card(data: dict[str, Any]) -> dict[str, Any]:
    return {key: ("(code)" if key == "card" else value) for key, value in data.items()}


def truncate() -> None:
    from guide.extensions import db

    db.session.remove()
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


MOMENTS = (NOW, NOW + timedelta(hours=26), NOW + timedelta(days=9, hours=3))


def run_passes(set_based: bool, batch_size: int) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    from guide.extensions import db
    from guide.services.library import current_library
    from scheduler.jobs import release_due

    reports = []
    for moment in MOMENTS:
        report = release_due(
            db.session, current_library(), moment, set_based=set_based, batch_size=batch_size
        )
        reports.append(
            (report.enrolments, report.releases, report.checkins, report.notices, report.failed)
        )
    return reports, snapshot()


def break_first_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the first set-based write fail: the batch must go one enrolment at a time."""
    original = release_batch._Writer._insert_events
    calls = {"n": 0}

    def failing(self: Any, events: list[Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database went away for a moment")
        original(self, events)

    monkeypatch.setattr(release_batch._Writer, "_insert_events", failing)


VARIANTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "set-based": lambda _: None,
    # A kind of decision the writer is told it does not know goes to advance_enrolment.
    "check-ins left to the reference": lambda mp: mp.setattr(
        release_batch,
        "HANDLED_PLAN_FIELDS",
        release_batch.HANDLED_PLAN_FIELDS - {"checkins"},
    ),
    "first batch fails": break_first_batch,
}


@pytest.mark.skipif(not POSTGRES_URL, reason="the set-based pass is PostgreSQL's")
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_set_based_pass_writes_exactly_what_the_per_enrolment_pass_writes(
    app: Flask, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    from guide.services.library import current_library

    specs = random_specs(16, current_library(), NOW, 90)
    build(specs)
    before = snapshot()
    reference_reports, reference = run_passes(set_based=False, batch_size=1000)

    truncate()
    build(specs)
    assert snapshot() == before  # the same population, row for row
    VARIANTS[variant](monkeypatch)
    reports, written = run_passes(set_based=True, batch_size=23)

    assert reports == reference_reports
    for table in reference:
        assert written[table] == reference[table], table
    # The population exercised what the pass can do.
    advanced = sum(r[0] for r in reports)
    assert advanced > 100 and sum(r[1] for r in reports) > 50 and sum(r[2] for r in reports) > 10
    assert any(kind == "phase_changed" for _, kind, _, _ in written["event"])
    assert any(kind == "checkin_expired" for _, kind, _, _ in written["event"])
    assert any("new_phase" in row[2] for row in written["outbox_message"])


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's array literals")
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_array_literals_reach_postgresql_unchanged(app: Flask) -> None:
    from guide.extensions import db

    texts = ['a "quoted" {brace}, comma', "back\\slash\\", "NULL", "", None, "åäö ✓", "'"]
    moments = [NOW, None, NOW + timedelta(microseconds=7)]
    got = db.session.execute(
        sa.text(
            "SELECT CAST(:t AS text[]), CAST(:i AS integer[]), CAST(:m AS timestamptz[]),"
            " CAST(:d AS date[])"
        ),
        {
            "t": release_batch.pg_array(texts),
            "i": release_batch.pg_array([1, None, -3]),
            "m": release_batch.pg_array(moments),
            "d": release_batch.pg_array([NOW.date(), None]),
        },
    ).one()
    db.session.rollback()
    assert got == (texts, [1, None, -3], moments, [NOW.date(), None])
