"""Four processes at once over the same 2,000 due enrolments, on PostgreSQL, into a real SMTP server.

Each process is an OS process (multiprocessing with spawn) with its own app, engine
and connections, running the same release and delivery passes as `guide scheduler
run`. Whatever order the row locks fall in, every module must be released once and
every e-mail must arrive once at the SMTP server on loopback, counted there by
Message-ID. Also when the server refuses three transactions in ten with 451, and
when a process is killed between claiming messages and sending them.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from guide.extensions import db
from guide.mail.outbox import CLAIM_TIMEOUT
from guide.mail.render import message_id
from guide.models import CheckinInstance, OutboxMessage, Release
from guide.services.journey import published_version
from guide.services.library import current_library
from tests.conftest import FIXTURE_CONTENT, POSTGRES_URL, TEST_ENVIRONMENT, at
from tests.factories import make_tenant
from tests.smtp_sink import SmtpSink, running_sink, smtp_environment
from tests.synthetic import create_enrolments

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_URL, reason="set GUIDE_TEST_POSTGRES_URL to race on PostgreSQL"
    ),
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]

PROCESSES = 4
RACING = 2_000  # enrolments in the race itself
FAULTY = 400  # in the fault test: enough for over a hundred refusals and retries
KILLED = 300  # in the test with a killed process
CLAIMED_BY_THE_DEAD = 120
ACTIVATED = at("2026-06-05 14:00")
NOW = at("2026-06-15 10:00")  # the check-in (3 days) and avlosning (7 days) are both due
ROUND = timedelta(hours=1)  # how far `now` moves between rounds of the fault test
MAX_ROUNDS = 20
# A worker that died must fail the test, not leave the others waiting for it for ever.
BARRIER_TIMEOUT = 180


@dataclass(frozen=True)
class Settings:
    """What a worker process needs to build its own app: picklable, so spawn can send it."""

    database_url: str
    smtp_port: int


def worker_app(settings: Settings) -> Flask:
    from guide import create_app

    # A process of its own, configured as a `guide scheduler run` process is: by environment.
    os.environ.update(
        {
            **TEST_ENVIRONMENT,
            "GUIDE_DATABASE_URL": settings.database_url,
            "GUIDE_CONTENT_DIR": str(FIXTURE_CONTENT),
            **smtp_environment(settings.smtp_port),
        }
    )
    return create_app()


def run_passes(settings: Settings, start: Any, results: Any) -> None:
    """Worker: release and deliver at NOW until nothing is left, then report what it did."""
    from scheduler.jobs import deliver_outbox, release_due

    app = worker_app(settings)
    worker = f"racer-{os.getpid()}"
    totals: Counter[str] = Counter()
    with app.app_context():
        start.wait()  # every process begins at the same moment
        while True:
            released = release_due(db.session, current_library(), NOW, worker=worker, batch_size=50)
            delivered = deliver_outbox(db.session, NOW, worker=worker, batch_size=50)
            totals.update(
                enrolments=released.enrolments,
                releases=released.releases,
                notices=released.notices,
                failed=len(released.failed),
                sent=delivered.sent,
                retrying=delivered.retrying,
            )
            if released.enrolments == 0 and delivered.batches == 0:
                break
    results.put(dict(totals))


def run_rounds(settings: Settings, start: Any, done: Any, shared: Any, results: Any) -> None:
    """Worker: one release and delivery pass per round, `now` moving on a round at a time."""
    from scheduler.jobs import deliver_outbox, release_due

    app = worker_app(settings)
    worker = f"racer-{os.getpid()}"
    totals: Counter[str] = Counter()
    with app.app_context():
        while True:
            start.wait()
            if shared["stop"]:
                break
            now = NOW + ROUND * shared["round"]
            released = release_due(db.session, current_library(), now, worker=worker, batch_size=50)
            delivered = deliver_outbox(db.session, now, worker=worker, batch_size=50)
            totals.update(enrolments=released.enrolments, sent=delivered.sent)
            totals.update(retrying=delivered.retrying, failed=delivered.failed)
            done.wait()
    results.put(dict(totals))


def claim_and_die(settings: Settings, limit: int) -> None:
    """Worker: claim messages for sending, then be killed before sending any of them."""
    from guide.mail.outbox import claim_due

    app = worker_app(settings)
    with app.app_context():
        claimed = claim_due(db.session, NOW, limit, worker=f"doomed-{os.getpid()}")
        assert len(claimed) == limit
        os.kill(os.getpid(), signal.SIGKILL)


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def due_enrolments(app: Flask) -> Callable[[int], list[str]]:
    """Make `count` enrolments, activated ten days ago, whose next moment has come."""

    def make(count: int) -> list[str]:
        tenant = make_tenant()
        guide = current_library().guide("stod")
        opening = published_version(db.session, guide.module("valkommen"))
        db.session.commit()
        with db.engine.begin() as connection:
            create_enrolments(
                connection,
                prefix="race",
                count=count,
                organisation_id=tenant.organisation.id,
                unit_id=tenant.unit.id,
                guide_id="stod",
                phase="start",
                activated_at=ACTIVATED,
                next_due_at=at("2026-06-08 09:00"),
                profile={"bor-ihop": "yes"},
                opening_module=("valkommen", opening.id),
            )
        return [f"race-{n}@example.se" for n in range(1, count + 1)]

    return make


def settings_for(app: Flask, sink: SmtpSink) -> Settings:
    return Settings(app.config["SQLALCHEMY_DATABASE_URI"], sink.port)


def start_workers(target: Any, *args: Any) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=args) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    return processes


def finish(processes: list[Any], results: Any) -> list[dict[str, int]]:
    reports = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return reports


def assert_released_and_delivered_once(sink: SmtpSink, addresses: list[str]) -> None:
    """Every enrolment has avlosning and one check-in once; every notice arrived once."""
    assert db.session.scalar(
        select(func.count()).select_from(Release).where(Release.module_id == "avlosning")
    ) == len(addresses)
    assert db.session.scalar(select(func.count()).select_from(CheckinInstance)) == len(addresses)
    notices = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice")).all()
    assert len(notices) == len(addresses)
    assert {n.status for n in notices} == {"sent"}

    arrived = sink.message_ids()
    duplicates = {key: count for key, count in arrived.items() if count > 1}
    assert duplicates == {}
    assert set(arrived) == {message_id(n) for n in notices}
    assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(addresses)


# -- the races ----------------------------------------------------------------------


def test_four_processes_release_and_deliver_every_due_enrolment_exactly_once(
    app: Flask, sink: SmtpSink, due_enrolments: Callable[[int], list[str]]
) -> None:
    addresses = due_enrolments(RACING)
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(PROCESSES, timeout=BARRIER_TIMEOUT), context.Queue()
    processes = start_workers(run_passes, settings_for(app, sink), start, results)
    reports = finish(processes, results)

    totals: Counter[str] = Counter()
    for report in reports:
        totals.update(report)
    assert totals["enrolments"] == RACING  # each advanced by exactly one process
    assert totals["releases"] == RACING and totals["notices"] == RACING
    assert totals["failed"] == 0 and totals["sent"] == RACING
    assert sum(1 for report in reports if report.get("enrolments")) >= 2  # they did share
    db.session.expire_all()
    assert_released_and_delivered_once(sink, addresses)


def test_every_mail_arrives_once_when_the_server_refuses_three_in_ten(
    app: Flask, sink: SmtpSink, due_enrolments: Callable[[int], list[str]]
) -> None:
    addresses = due_enrolments(FAULTY)
    chance = random.Random(451)
    sink.refuse_data = lambda _data: "451 4.3.0 Try again later" if chance.random() < 0.3 else None

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES + 1, timeout=BARRIER_TIMEOUT)
    done = context.Barrier(PROCESSES + 1, timeout=BARRIER_TIMEOUT)
    manager = context.Manager()
    shared = manager.dict(round=0, stop=False)
    results = context.Queue()
    processes = start_workers(run_rounds, settings_for(app, sink), start, done, shared, results)

    rounds = 0
    while True:
        start.wait()
        done.wait()
        rounds += 1
        db.session.expire_all()
        waiting = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
        if waiting == 0 or rounds == MAX_ROUNDS:
            break
        shared["round"] = rounds
    shared["stop"] = True
    start.wait()
    reports = finish(processes, results)
    manager.shutdown()

    assert waiting == 0, f"{waiting} message(s) still unsent after {rounds} rounds"
    assert sink.refused > FAULTY * 0.2  # the faults really happened
    assert sum(report.get("failed", 0) for report in reports) == 0
    assert sum(report.get("sent", 0) for report in reports) == FAULTY
    retried = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 1)
    )
    assert retried is not None and retried > FAULTY * 0.2
    assert_released_and_delivered_once(sink, addresses)


def test_a_process_killed_between_claiming_and_sending_loses_nothing(
    app: Flask,
    sink: SmtpSink,
    due_enrolments: Callable[[int], list[str]],
    make_app: Callable[..., Flask],
) -> None:
    from scheduler.jobs import deliver_outbox, release_due

    addresses = due_enrolments(KILLED)
    release_due(db.session, current_library(), NOW)
    settings = settings_for(app, sink)
    context = multiprocessing.get_context("spawn")
    doomed = context.Process(target=claim_and_die, args=(settings, CLAIMED_BY_THE_DEAD))
    doomed.start()
    doomed.join(timeout=60)
    assert doomed.exitcode == -signal.SIGKILL

    db.session.expire_all()
    stuck = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sending")
    )
    assert stuck == CLAIMED_BY_THE_DEAD

    # The others carry on; the dead process's claim is honoured until it goes stale.
    start, results = context.Barrier(PROCESSES, timeout=BARRIER_TIMEOUT), context.Queue()
    reports = finish(start_workers(run_passes, settings, start, results), results)
    assert sum(report.get("sent", 0) for report in reports) == KILLED - CLAIMED_BY_THE_DEAD
    assert len(sink.received) == KILLED - CLAIMED_BY_THE_DEAD

    make_app(**smtp_environment(sink.port))  # this process, now sending through the sink
    later = NOW + CLAIM_TIMEOUT + timedelta(minutes=1)
    assert deliver_outbox(db.session, later).sent == CLAIMED_BY_THE_DEAD
    assert_released_and_delivered_once(sink, addresses)


def test_the_synthetic_enrolments_are_due_and_complete(
    app: Flask, due_enrolments: Callable[[int], list[str]]
) -> None:
    from guide.models import Enrolment

    due_enrolments(10)
    count = db.session.scalar(
        select(func.count()).select_from(Enrolment).where(Enrolment.next_due_at <= NOW)
    )
    assert count == 10
    enrolment = db.session.scalar(select(Enrolment).order_by(Enrolment.id))
    assert enrolment is not None
    assert enrolment.relative.email == "race-1@example.se"
    assert enrolment.current_phase == "start"
    assert enrolment.notified_phase == "start"  # as redeem_card leaves it
    assert [r.module_id for r in enrolment.releases] == ["valkommen"]
    assert enrolment.last_email_on == datetime(2026, 6, 5).date()
