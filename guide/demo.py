"""Demo data for `guide serve --demo`: an organisation, two units, an account per role."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from sqlalchemy import select

from guide.accounts import create_organisation, create_staff, create_unit
from guide.extensions import db
from guide.models import Organisation, StaffRole, StaffUser

DEMO_PASSWORD = "demo-losenord-2026"
DEMO_ORG = "demokommun"
DEMO_ACCOUNTS = (
    ("personal@demo.lots.se", StaffRole.STAFF, "anhorigstod"),
    ("personal.psykiatri@demo.lots.se", StaffRole.STAFF, "psykiatri"),
    ("admin@demo.lots.se", StaffRole.ORG_ADMIN, None),
    ("redaktor@demo.lots.se", StaffRole.EDITOR, None),
    ("systemadmin@demo.lots.se", StaffRole.ADMIN, None),
)


def create_demo(app: Flask) -> Iterator[str]:
    """Create the demo organisation once, and say how to log in."""
    session = db.session
    organisation = session.scalar(select(Organisation).where(Organisation.slug == DEMO_ORG))
    if organisation is None:
        organisation = create_organisation(session, DEMO_ORG, "Demo kommun")
        units = {
            "anhorigstod": create_unit(
                session,
                organisation,
                "anhorigstod",
                "Anhörigstöd",
                "Anhörigkonsulenten (demo: här står enhetens telefon)",
            ),
            "psykiatri": create_unit(
                session,
                organisation,
                "psykiatri",
                "Psykiatriska kliniken",
                "Avdelning 3 (demo: här står enhetens telefon)",
            ),
        }
        for email, role, unit_slug in DEMO_ACCOUNTS:
            in_org = role in (StaffRole.STAFF, StaffRole.ORG_ADMIN)
            create_staff(
                session,
                email,
                role,
                organisation=organisation if in_org else None,
                unit=units[unit_slug] if unit_slug else None,
                password=DEMO_PASSWORD,
            )
        session.commit()
    yield ""
    yield "Demo accounts (password for all: " + DEMO_PASSWORD + "):"
    for email, role, _unit in DEMO_ACCOUNTS:
        if session.scalar(select(StaffUser).where(StaffUser.email == email)):
            yield f"  {role.value:10} {email}"
    yield f"Staff log in at {app.config['GUIDE_BASE_URL']}/personal/logga-in"
