"""The `guide` command line (SPEC §11): thin wrappers that parse, call a domain function and print."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

# -- content ------------------------------------------------------------------------


@click.group(cls=AppGroup)
def content() -> None:
    """Check and publish the content library."""


@content.command("check", with_appcontext=False)
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--lix-limit", default=50.0, show_default=True, help="Warn above this LIX.")
def content_check(directory: Path | None, lix_limit: float) -> None:
    """Validate a content folder; print path:line: message for each problem."""
    from guide.config import DEFAULT_CONTENT_DIR
    from guide.content.checker import check_content

    folder = directory or Path(DEFAULT_CONTENT_DIR)
    problems = check_content(folder, lix_limit=lix_limit)
    for problem in problems:
        click.echo(str(problem))
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s) in {folder}", err=True)
    sys.exit(1 if errors else 0)


@content.command("sync")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@with_appcontext
def content_sync(directory: Path | None) -> None:
    """Store every changed module as a new immutable version."""
    from guide.content.loader import ContentError, load_library
    from guide.content.sync import sync_module_versions
    from guide.extensions import db

    try:
        library = load_library(directory or current_app.config["GUIDE_CONTENT_DIR"])
    except ContentError as error:
        raise click.ClickException(str(error)) from None
    report = sync_module_versions(db.session, library)
    for name in report.created:
        click.echo(f"new version: {name}")
    click.echo(f"{len(report.created)} new version(s), {report.unchanged} unchanged")


# -- serve --------------------------------------------------------------------------


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Create a demo organisation, accounts and cards.")
@with_appcontext
def serve(host: str, port: int, demo: bool) -> None:
    """Run the web app (with the scheduler inside unless GUIDE_RUN_SCHEDULER=0)."""
    from waitress import serve as waitress_serve

    from guide.serve import prepare_service

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for line in prepare_service(app, host, port, demo):
        click.echo(line)
    waitress_serve(app, host=host, port=port, threads=8, ident="Lots")


COMMANDS = (content, serve)


def register_commands(app: Flask) -> None:
    """Make every command reachable as `flask --app guide ...` too."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from guide import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Lots: personalised guidance for relatives, released at the right time."""


for _command in COMMANDS:
    main.add_command(_command)
