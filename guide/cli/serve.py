"""Everything `guide serve` does before it listens: migrate, publish content, demo data, scheduler."""

from __future__ import annotations

from collections.abc import Iterator

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext
from waitress import serve as waitress_serve

from guide.cli.demo import create_demo
from guide.config import DEFAULT_BASE_URL
from guide.extensions import db, upgrade_database
from guide.services.library import folder_library
from guide.services.versions import sync_module_versions
from scheduler.runner import interval_of, start_in_background


def prepare_service(app: Flask, host: str, port: int, demo: bool) -> Iterator[str]:
    """Bring the database up to date and say where the service listens."""
    upgrade_database()
    synced = sync_module_versions(db.session, folder_library(), keep_published=True)
    db.session.commit()
    address = f"http://{host}:{port}"
    if host in ("0.0.0.0", "::"):
        address = f"http://localhost:{port}"
    # Without GUIDE_BASE_URL, links in mail point at where this process listens; a
    # command in another shell must be told, or its links would lead to port 5000.
    moved = app.config["GUIDE_BASE_URL"] == DEFAULT_BASE_URL and port != 5000
    if moved:
        app.config["GUIDE_BASE_URL"] = address
    yield f"Lots listens on {address}"
    yield f"Database: {app.config['SQLALCHEMY_DATABASE_URI']}"
    if synced.kept_published:
        yield (
            "Kept what editors published in the browser (newer than the files): "
            + ", ".join(synced.kept_published)
            + ". Run guide content export to write it back."
        )
    if demo:
        app.config["GUIDE_DEMO"] = True
        yield from create_demo(app, f"GUIDE_BASE_URL={address} " if moved else "")
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

    start_in_background(app)
    yield f"Scheduler: releases modules and sends e-mail every {interval_of(app)} s"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Create a demo organisation, accounts and cards.")
@with_appcontext
def serve(host: str, port: int, demo: bool) -> None:
    """Run the web app (with the scheduler inside unless GUIDE_RUN_SCHEDULER=0)."""

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for line in prepare_service(app, host, port, demo):
        click.echo(line)
    waitress_serve(app, host=host, port=port, threads=8, ident="Lots")
