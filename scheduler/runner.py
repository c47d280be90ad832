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

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from guide.models.base import utcnow

log = logging.getLogger(__name__)

RELEASE_JOB_ID = "lots-release-due"
DELIVERY_JOB_ID = "lots-deliver-outbox"
INTERVAL_SECONDS = 30
# A run that starts more than this late (a sleeping laptop, a long pause) is skipped;
# the next one catches up anyway, since the passes work from the database, not the timer.
MISFIRE_GRACE_SECONDS = 60


def release_job(app: Flask) -> None:
    """Release what has fallen due, as of now."""
    from guide.content.library import current_library
    from guide.extensions import db
    from scheduler.jobs import release_due

    with app.app_context():
        report = release_due(db.session, current_library(), utcnow())
    if report.enrolments or report.failed:
        log.info(
            "Released %s module(s), opened %s check-in(s) for %s enrolment(s); %s failed",
            report.releases,
            report.checkins,
            report.enrolments,
            len(report.failed),
        )


def delivery_job(app: Flask) -> None:
    """Send the outbox's due messages, as of now."""
    from guide.extensions import db
    from scheduler.jobs import deliver_outbox

    with app.app_context():
        report = deliver_outbox(db.session, utcnow())
    if report.batches:
        log.info(
            "Sent %s e-mail(s); %s to retry, %s failed", report.sent, report.retrying, report.failed
        )


def add_jobs(scheduler: BaseScheduler, app: Flask, interval: int = INTERVAL_SECONDS) -> None:
    """Schedule the release and delivery passes for `app`, the first ones at once."""
    common = {
        "trigger": "interval",
        "seconds": interval,
        "args": [app],
        "replace_existing": True,
        "coalesce": True,
        "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        "max_instances": 1,
        "next_run_time": utcnow(),
    }
    scheduler.add_job(release_job, id=RELEASE_JOB_ID, name="Release due modules", **common)
    scheduler.add_job(delivery_job, id=DELIVERY_JOB_ID, name="Deliver the outbox", **common)


def start_in_background(app: Flask) -> BackgroundScheduler:
    """Start the passes in threads of this process (inside `guide serve`), once per app."""
    running = app.extensions.get("lots_scheduler")
    if running is not None and running.running:
        return running  # type: ignore[no-any-return]
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["lots_scheduler"] = scheduler
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the passes in this process until it is interrupted or terminated (`guide scheduler run`)."""
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    # Let a pass in progress finish its batch; an interrupted one would be safe too.
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown())
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown()
