"""Benchmark (c): the same 10,000 releases the naive way, one APScheduler job per relative.

    python -m tests.bench.naive_apscheduler --count 10000

This is the design SPEC §3 rules out, measured for comparison with release_pass: each
relative's next release is a date job in APScheduler's SQLAlchemyJobStore (pickled
into a table of the same database), and each job, when it runs, opens an app
context, locks its enrolment, lets the planner advance it and commits. The figures:
how long scheduling the jobs takes, and how long the scheduler needs to run them all
once they are due (its default thread pool of ten).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from flask import Flask

from tests.bench.common import arguments, bench_app, enrol_synthetic, fresh_schema, timed

APP: Flask | None = None  # the job function is looked up by name, so it finds the app here


def release_one(enrolment_id: int, now_iso: str) -> None:
    """Job: advance one enrolment at the given (simulated) moment, in its own transaction."""
    from sqlalchemy import select

    from guide.extensions import db
    from guide.models import Enrolment
    from guide.services.journey import advance_enrolment
    from guide.services.library import current_library

    assert APP is not None
    with APP.app_context():
        enrolment = db.session.scalar(
            select(Enrolment).where(Enrolment.id == enrolment_id).with_for_update()
        )
        assert enrolment is not None
        guide = current_library().guide(enrolment.guide_id)
        advance_enrolment(db.session, guide, enrolment, datetime.fromisoformat(now_iso))
        db.session.commit()


def main() -> None:
    global APP
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import create_engine, func, select

    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="relatives, one job each")
    options = parser.parse_args()
    count = options.count

    url = fresh_schema(options.database, options.schema)
    APP = bench_app(url)
    moments = enrol_synthetic(APP, count, 0)

    from guide.extensions import db
    from guide.models import Enrolment, Release

    with APP.app_context():
        ids = list(db.session.scalars(select(Enrolment.id).order_by(Enrolment.id)))

    engine = create_engine(url)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone="UTC"
    )
    finished = threading.Event()
    outcome = {"executed": 0, "error": 0, "missed": 0}
    lock = threading.Lock()

    def listen(event: object) -> None:
        kind = {
            EVENT_JOB_EXECUTED: "executed",
            EVENT_JOB_ERROR: "error",
            EVENT_JOB_MISSED: "missed",
        }
        with lock:
            outcome[kind[event.code]] += 1  # type: ignore[attr-defined]
            if sum(outcome.values()) == count:
                finished.set()

    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    scheduler.start(paused=True)
    run_at = datetime.now(UTC) + timedelta(seconds=1)
    with timed(f"schedule {count:,} jobs in the SQLAlchemyJobStore", count, "jobs/s"):
        for enrolment_id in ids:
            scheduler.add_job(
                release_one,
                "date",
                run_date=run_at,
                args=[enrolment_id, moments.now.isoformat()],
                id=f"release-{enrolment_id}",
                misfire_grace_time=None,  # run late rather than never
                replace_existing=True,
            )
    time.sleep(max(0.0, (run_at - datetime.now(UTC)).total_seconds()))
    with timed(f"run {count:,} due jobs", count, "enrolments/s") as run:
        scheduler.resume()
        finished.wait()
    scheduler.shutdown()
    print(
        f"  executed {outcome['executed']:,}, failed {outcome['error']:,}, "
        f"missed {outcome['missed']:,}; {run['seconds'] / count * 1000:.2f} ms per enrolment"
    )
    with APP.app_context():
        released = db.session.scalar(
            select(func.count()).select_from(Release).where(Release.module_id == "vem-gor-vad")
        )
    print(f"  vem-gor-vad released to {released:,} relatives")


if __name__ == "__main__":
    main()
