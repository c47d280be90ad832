"""`guide org|unit|staff ...`: tenants, their units and staff accounts."""

from __future__ import annotations

import click
from sqlalchemy import select

from guide.cli.group import CommandGroup
from guide.extensions import db
from guide.models import StaffRole, StaffUser
from guide.models.base import utcnow
from guide.services.accounts import (
    address_key,
    create_organisation,
    create_staff,
    create_unit,
    deactivate_staff,
    get_organisation,
    get_unit,
    issue_api_token,
    revoke_api_tokens,
)
from guide.services.passwords import password_link


@click.group(cls=CommandGroup)
def org() -> None:
    """Organisations (tenants)."""


@org.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
def org_create(slug: str, name: str) -> None:
    """Create an organisation."""

    create_organisation(db.session, slug, name)
    db.session.commit()
    click.echo(f"Created organisation {slug}")


@click.group(cls=CommandGroup)
def unit() -> None:
    """Units of an organisation."""


@unit.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--contact", default="", help="Printed on the unit's cards, e.g. a phone number.")
def unit_create(org_slug: str, slug: str, name: str, contact: str) -> None:
    """Create a unit in an organisation."""

    create_unit(db.session, get_organisation(db.session, org_slug), slug, name, contact)
    db.session.commit()
    click.echo(f"Created unit {org_slug}/{slug}")


@click.group(cls=CommandGroup)
def staff() -> None:
    """Staff accounts and their API tokens."""


@staff.command("create")
@click.option("--org", "org_slug")
@click.option("--unit", "unit_slug")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["staff", "org_admin", "editor", "admin"]))
def staff_create(org_slug: str | None, unit_slug: str | None, email: str, role: str) -> None:
    """Create an account and print a one-time link to set its password."""

    organisation = get_organisation(db.session, org_slug) if org_slug else None
    found_unit = (
        get_unit(db.session, organisation, unit_slug) if organisation and unit_slug else None
    )
    account = create_staff(db.session, email, StaffRole(role), organisation, found_unit)
    db.session.commit()
    click.echo(f"Created {role} {account.email}")
    click.echo(f"Set the password (link works once): {password_link(account)}")


@staff.command("token")
@click.option("--email", required=True)
@click.option("--revoke", is_flag=True, help="Revoke every API token of the account instead.")
def staff_token(email: str, revoke: bool) -> None:
    """Print a new API token for a staff account (it expires after GUIDE_STAFF_TOKEN_DAYS)."""

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

    account = _staff_account(email)
    deactivate_staff(db.session, account, utcnow())
    db.session.commit()
    click.echo(f"Deactivated {account.email}; its sessions and API tokens have stopped")


def _staff_account(email: str) -> StaffUser:

    account = db.session.scalar(select(StaffUser).where(StaffUser.email == address_key(email)))
    if account is None:
        raise click.ClickException(f"There is no staff account {email}.")
    return account
