"""`guide content check|sync|export`: validate the content folder, publish its versions, write back."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from guide.cli.group import CommandGroup
from guide.config import DEFAULT_CONTENT_DIR
from guide.content.checker import check_content
from guide.content.loader import ContentError, load_library
from guide.extensions import db
from guide.services.versions import export_published, sync_module_versions


@click.group(cls=CommandGroup)
def content() -> None:
    """Check and publish the content library."""


@content.command("check", with_appcontext=False)
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--lix-limit", default=50.0, show_default=True, help="Warn above this LIX.")
def content_check(directory: Path | None, lix_limit: float) -> None:
    """Validate a content folder; print path:line: message for each problem."""

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

    try:
        library = load_library(directory or current_app.config["GUIDE_CONTENT_DIR"])
    except ContentError as error:
        raise click.ClickException(str(error)) from None
    report = sync_module_versions(db.session, library)
    db.session.commit()
    for name in report.created:
        click.echo(f"new version: {name}")
    click.echo(f"{len(report.created)} new version(s), {report.unchanged} unchanged")


@content.command("export")
@click.argument("directory", type=click.Path(path_type=Path))
@with_appcontext
def content_export(directory: Path) -> None:
    """Write the published state (with what editors published) back in the content format."""

    written = export_published(db.session, Path(current_app.config["GUIDE_CONTENT_DIR"]), directory)
    for name in written:
        click.echo(f"written: {name}")
    click.echo(f"{len(written)} module(s) from the editors, content in {directory}")
