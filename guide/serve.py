"""Everything `guide serve` does before it listens: migrate, publish content, demo data, scheduler."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, url_for
from flask_migrate import upgrade

from guide.content.library import current_library
from guide.content.sync import sync_module_versions
from guide.extensions import db


def prepare_service(app: Flask, host: str, port: int, demo: bool) -> Iterator[str]:
    """Bring the database up to date and say where the service listens."""
    upgrade()
    sync_module_versions(db.session, current_library())
    address = f"http://{host}:{port}"
    if host in ("0.0.0.0", "::"):
        address = f"http://localhost:{port}"
    if app.config["GUIDE_BASE_URL"] == "http://localhost:5000" and port != 5000:
        app.config["GUIDE_BASE_URL"] = address
    yield f"Lots listens on {address}"
    yield f"Database: {app.config['SQLALCHEMY_DATABASE_URI']}"
    if demo:
        from guide.demo import create_demo

        app.config["GUIDE_DEMO"] = True
        yield from create_demo(app)
    if app.config["GUIDE_CAPTURE_MAIL"]:
        inbox = url_for("inbox.index", _external=True)
        where = f" at {inbox}" if demo else " in the database (captured_mail)"
        yield f"No MAIL_SERVER set: e-mail is captured{where}"
    yield from start_scheduler(app)


def start_scheduler(app: Flask) -> Iterator[str]:
    """Run the release and delivery passes inside this process, unless GUIDE_RUN_SCHEDULER=0."""
    if not app.config["GUIDE_RUN_SCHEDULER"]:
        yield "Scheduler: off here (GUIDE_RUN_SCHEDULER=0); run `guide scheduler run` beside it"
        return
    from scheduler.runner import interval_of, start_in_background

    start_in_background(app)
    yield f"Scheduler: releases modules and sends e-mail every {interval_of(app)} s"
