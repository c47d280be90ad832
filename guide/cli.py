"""The `guide` command line (SPEC §11): thin wrappers that parse, call a domain function and print."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from guide.cli_scheduler import scheduler

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


# -- organisations, units, staff ---------------------------------------------------


@click.group(cls=AppGroup)
def org() -> None:
    """Organisations (tenants)."""


@org.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
def org_create(slug: str, name: str) -> None:
    """Create an organisation."""
    from guide.accounts import AccountError, create_organisation
    from guide.extensions import db

    try:
        create_organisation(db.session, slug, name)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created organisation {slug}")


@click.group(cls=AppGroup)
def unit() -> None:
    """Units of an organisation."""


@unit.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--contact", default="", help="Printed on the unit's cards, e.g. a phone number.")
def unit_create(org_slug: str, slug: str, name: str, contact: str) -> None:
    """Create a unit in an organisation."""
    from guide.accounts import AccountError, create_unit, get_organisation
    from guide.extensions import db

    try:
        create_unit(db.session, get_organisation(db.session, org_slug), slug, name, contact)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created unit {org_slug}/{slug}")


@click.group(cls=AppGroup)
def staff() -> None:
    """Staff accounts and their API tokens."""


@staff.command("create")
@click.option("--org", "org_slug")
@click.option("--unit", "unit_slug")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["staff", "org_admin", "editor", "admin"]))
def staff_create(org_slug: str | None, unit_slug: str | None, email: str, role: str) -> None:
    """Create an account and print a one-time link to set its password."""
    from guide.accounts import AccountError, create_staff, get_organisation, get_unit
    from guide.extensions import db
    from guide.models import StaffRole
    from guide.staff_passwords import password_link

    try:
        organisation = get_organisation(db.session, org_slug) if org_slug else None
        found_unit = (
            get_unit(db.session, organisation, unit_slug) if organisation and unit_slug else None
        )
        account = create_staff(db.session, email, StaffRole(role), organisation, found_unit)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {role} {account.email}")
    click.echo(f"Set the password (link works once): {password_link(account)}")


@staff.command("token")
@click.option("--email", required=True)
@click.option("--revoke", is_flag=True, help="Revoke every API token of the account instead.")
def staff_token(email: str, revoke: bool) -> None:
    """Print a new API token for a staff account (it expires after GUIDE_STAFF_TOKEN_DAYS)."""
    from guide.accounts import issue_api_token, revoke_api_tokens
    from guide.extensions import db
    from guide.models.base import utcnow

    account = _staff_account(email)
    now = utcnow()
    if revoke:
        count = revoke_api_tokens(db.session, now, staff=account)
        db.session.commit()
        click.echo(f"Revoked {count} API token(s) of {account.email}")
        return
    if not account.active:
        raise click.ClickException(f"The account {account.email} is deactivated.")
    token = issue_api_token(db.session, now, staff=account)
    db.session.commit()
    click.echo(token)  # alone, so that scripts can take it as it is


@staff.command("deactivate")
@click.option("--email", required=True)
def staff_deactivate(email: str) -> None:
    """Deactivate a staff account: it cannot log in, its sessions and tokens stop at once."""
    from guide.accounts import deactivate_staff
    from guide.extensions import db
    from guide.models.base import utcnow

    account = _staff_account(email)
    deactivate_staff(db.session, account, utcnow())
    db.session.commit()
    click.echo(f"Deactivated {account.email}; its sessions and API tokens have stopped")


def _staff_account(email: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from guide.extensions import db
    from guide.models import StaffUser

    account = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if account is None:
        raise click.ClickException(f"There is no staff account {email}.")
    return account


# -- cards --------------------------------------------------------------------------


@click.group(cls=AppGroup)
def cards() -> None:
    """Activation cards."""


@cards.command("issue")
@click.option("--org", "org_slug", required=True)
@click.option("--unit", "unit_slug", required=True)
@click.option("--guide", "guide_id", required=True)
@click.option("--count", required=True, type=int)
@click.option("--phase", default=None)
@click.option("--expires", default=None, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def cards_issue(
    org_slug: str,
    unit_slug: str,
    guide_id: str,
    count: int,
    phase: str | None,
    expires: object,
    out: Path,
) -> None:
    """Issue a batch of cards and write its printable PDF."""
    from activation_codes.cards_pdf import write_cards_pdf
    from guide.accounts import AccountError, get_organisation, get_unit
    from guide.cards import BatchRequest, CardError, issue_batch, printable_cards
    from guide.content.library import current_library
    from guide.extensions import db
    from guide.models.base import utcnow

    library = current_library()
    if guide_id not in library.guides:
        raise click.ClickException(f"There is no guide '{guide_id}'.")
    try:
        found_unit = get_unit(db.session, get_organisation(db.session, org_slug), unit_slug)
        expires_on = expires.date() if expires is not None else None  # type: ignore[attr-defined]
        request = BatchRequest(found_unit, library.guide(guide_id), count, phase, expires_on)
        batch = issue_batch(db.session, request, utcnow())
    except (AccountError, CardError) as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    with click.progressbar(length=count, label="Drawing cards") as bar, out.open("wb") as handle:
        done = 0

        def progress(total: int) -> None:
            nonlocal done
            bar.update(total - done)
            done = total

        write_cards_pdf(printable_cards(db.session, library, batch), handle, progress=progress)
    click.echo(f"Issued {count} cards (batch {batch.id}) and wrote {out}")


COMMANDS = (content, serve, org, unit, staff, cards, scheduler)


def register_commands(app: Flask) -> None:
    """Make every command reachable as `flask --app guide ...` too."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from guide import create_app
    from guide.config import ConfigError
    from guide.urls import BaseUrlError

    try:
        return create_app()
    except (ConfigError, BaseUrlError) as error:
        # A setting an operator can fix: say which and why, not a traceback.
        raise click.ClickException(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Lots: personalised guidance for relatives, released at the right time."""


for _command in COMMANDS:
    main.add_command(_command)
