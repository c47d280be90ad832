"""Run the release and delivery passes on a timer with APScheduler.

There are no per-relative jobs: two short, idempotent passes over our own tables run
every half minute, and the database says what is due. The jobs follow APScheduler's
advice for that shape: module-level functions, explicit ids, `replace_existing`,
`coalesce` (a backlog of missed runs becomes one run), a misfire grace time and one
instance at a time. Each job opens an app context and calls the domain function with
the current time; everything else lives in scheduler/jobs.py.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from guide.extensions import db
from guide.models.base import utcnow
from guide.services.library import current_library
from guide.services.retention import run_retention
from scheduler.jobs import DeliveryReport, ReleaseReport, deliver_outbox, release_due

log = logging.getLogger(__name__)

RELEASE_JOB_ID = "lots-release-due"
DELIVERY_JOB_ID = "lots-deliver-outbox"
RETENTION_JOB_ID = "lots-retention"
RETENTION_INTERVAL_SECONDS = 3600
# Seconds between passes unless GUIDE_SCHEDULER_INTERVAL says otherwise.
INTERVAL_SECONDS = 30
# A run that starts more than this late (a sleeping laptop, a long pause) is skipped;
# the next one catches up anyway, since the passes work from the database, not the timer.
MISFIRE_GRACE_SECONDS = 60
# A job works through a backlog in chunks of this many, so that stopping the process
# waits for one chunk (seconds), never for a whole backlog.
CHUNK = 500
# Set when the process is asked to stop: a job in progress finishes its chunk and ends.
stopping = threading.Event()


def release_job(app: Flask) -> None:
    """Release what has fallen due, as of now, a chunk at a time until nothing is left."""

    total = ReleaseReport()
    with app.app_context():
        while not stopping.is_set():
            report = release_due(db.session, current_library(), utcnow(), limit=CHUNK)
            total.add(report)
            if report.enrolments + len(report.failed) < CHUNK:
                break
    if total.enrolments or total.failed:
        log.info(
            "Released %s module(s), opened %s check-in(s) for %s enrolment(s); %s failed",
            total.releases,
            total.checkins,
            total.enrolments,
            len(total.failed),
        )


def delivery_job(app: Flask) -> None:
    """Send the outbox's due messages, as of now, a chunk at a time until none are left."""

    total = DeliveryReport()
    with app.app_context():
        while not stopping.is_set():
            report = deliver_outbox(db.session, utcnow(), limit=CHUNK)
            total.add(report)
            if report.claimed < CHUNK:
                break
    if total.batches:
        log.info(
            "Sent %s e-mail(s); %s to retry, %s failed, %s could not be rendered",
            total.sent,
            total.retrying,
            total.failed,
            total.unrenderable,
        )


def retention_job(app: Flask) -> None:
    """Warn unused accounts, erase the warned who stayed away, purge expired cards."""
    with app.app_context():
        report = run_retention(db.session, utcnow(), app.config["GUIDE_RETENTION_DAYS"])
    if report.warned or report.erased or report.cards_purged:
        log.info(
            "Retention: warned %s, erased %s account(s); purged %s expired card(s)",
            report.warned,
            report.erased,
            report.cards_purged,
        )


def interval_of(app: Flask) -> int:
    """Return the seconds between passes for `app` (GUIDE_SCHEDULER_INTERVAL)."""
    return int(app.config.get("GUIDE_SCHEDULER_INTERVAL", INTERVAL_SECONDS))


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Schedule the release and delivery passes for `app`, the first ones at once."""
    common = {
        "trigger": "interval",
        "seconds": interval_of(app),
        "args": [app],
        "replace_existing": True,
        "coalesce": True,
        "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        "max_instances": 1,
        "next_run_time": utcnow(),
    }
    scheduler.add_job(release_job, id=RELEASE_JOB_ID, name="Release due modules", **common)
    scheduler.add_job(delivery_job, id=DELIVERY_JOB_ID, name="Deliver the outbox", **common)
    # Retention is a matter of days: once an hour is plenty, and it stays off the hot path.
    scheduler.add_job(
        retention_job,
        id=RETENTION_JOB_ID,
        name="Retention",
        **{**common, "seconds": max(interval_of(app), RETENTION_INTERVAL_SECONDS)},
    )


def start_in_background(app: Flask) -> BackgroundScheduler:
    """Start the passes in threads of this process (inside `guide serve`), once per app."""
    running = app.extensions.get("lots_scheduler")
    if running is not None and running.running:
        return running
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["lots_scheduler"] = scheduler
    return scheduler


def run_blocking(app: Flask, started: Callable[[], None] | None = None) -> None:
    """Run the passes in this process until it is interrupted or terminated (`guide scheduler run`).

    SIGTERM and Ctrl+C stop it cleanly: the passes in progress finish their chunk.
    `started` is called once the scheduler runs and a signal would stop it cleanly.
    """
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    previous: dict[int, Any] = {}

    def stop(_signal: int, _frame: object) -> None:
        if stopping.is_set():
            return
        stopping.set()
        # Not here: the signal may have interrupted the scheduler while it holds its locks.
        threading.Thread(target=scheduler.shutdown, name="lots-scheduler-stop").start()

    def on_start(_event: object) -> None:
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, stop)
        if started is not None:
            started()

    scheduler.add_listener(on_start, EVENT_SCHEDULER_STARTED)
    try:
        scheduler.start()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    log.info("Stopped: the passes in progress finished their chunk")
