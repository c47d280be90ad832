"""Demo data for `guide serve --demo`: an organisation, two units, an account per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import Flask, url_for
from sqlalchemy import select

from activation_codes.cards_pdf import write_cards_pdf
from guide.extensions import db
from guide.models import Card, CardBatch, CardStatus, Organisation, StaffRole, StaffUser
from guide.models.base import utcnow
from guide.services.accounts import create_organisation, create_staff, create_unit, get_unit
from guide.services.cards import BatchRequest, issue_batch, printable_cards
from guide.services.library import current_library
from guide.services.local_facts import set_local_fact

DEMO_CARDS_PER_GUIDE = 8

DEMO_PASSWORD = "demo-losenord-2026"
DEMO_ORG = "demokommun"
# Local facts of the demo: plainly made up, never a number or address someone could call.
DEMO_LOCAL_FACTS = {
    "anhorigkonsulent.kontakt": "Demo kommuns anhörigkonsulent (påhittad, det här är en demo). "
    "I en riktig kommun står namn, telefon och tider här.",
    "anhorigstod.grupper": "Demo kommun har en påhittad anhöriggrupp på tisdagar. "
    "I en riktig kommun står grupper, tider och platser här.",
    "bistand.kontakt": "Biståndshandläggarna i Demo kommun finns bara i demon. "
    "I en riktig kommun står hur du når dem här.",
    "uppfoljning.tider": "I demon läser personalen signalerna vardagar (påhittade tider). "
    "I en riktig kommun står personalens tider här.",
    "psykiatri.avdelning": "Avdelning 3 i Demo kommun är påhittad. "
    "I en riktig region står telefon och besökstider här.",
}
DEMO_ACCOUNTS = (
    ("personal@demo.lots.se", StaffRole.STAFF, "anhorigstod"),
    ("personal.psykiatri@demo.lots.se", StaffRole.STAFF, "psykiatri"),
    ("admin@demo.lots.se", StaffRole.ORG_ADMIN, None),
    ("redaktor@demo.lots.se", StaffRole.EDITOR, None),
    # A second editor: a draft is approved by another editor than its author.
    ("granskare@demo.lots.se", StaffRole.EDITOR, None),
    ("systemadmin@demo.lots.se", StaffRole.ADMIN, None),
)


def create_demo(app: Flask, tick_environment: str = "") -> Iterator[str]:
    """Create the demo organisation once, and say how to log in.

    `tick_environment` is what a command in another shell must be given to build the
    same links as this process (a base URL that only `guide serve --port` set).
    """
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
                "Anhörigkonsulenten i Demo kommun. Telefon: finns inte, det här är en demo.",
            ),
            "psykiatri": create_unit(
                session,
                organisation,
                "psykiatri",
                "Psykiatriska kliniken",
                "Avdelning 3, Psykiatriska kliniken i Demo kommun. Telefon: finns inte i demon.",
            ),
        }
        accounts = {}
        for email, role, unit_slug in DEMO_ACCOUNTS:
            in_org = role in (StaffRole.STAFF, StaffRole.ORG_ADMIN)
            accounts[role] = create_staff(
                session,
                email,
                role,
                organisation=organisation if in_org else None,
                unit=units[unit_slug] if unit_slug else None,
                password=DEMO_PASSWORD,
            )
        library = current_library()
        for key, value in DEMO_LOCAL_FACTS.items():
            if key in library.local_facts:
                set_local_fact(
                    session,
                    library,
                    organisation,
                    key,
                    value,
                    utcnow(),
                    accounts[StaffRole.ORG_ADMIN],
                )
        session.commit()
    for email, role, unit_slug in DEMO_ACCOUNTS:
        # Each account once, also in a demo folder from before an account was added.
        if session.scalar(select(StaffUser).where(StaffUser.email == email)) is not None:
            continue
        in_org = role in (StaffRole.STAFF, StaffRole.ORG_ADMIN)
        create_staff(
            session,
            email,
            role,
            organisation=organisation if in_org else None,
            unit=get_unit(session, organisation, unit_slug) if unit_slug else None,
            password=DEMO_PASSWORD,
        )
    session.commit()
    yield ""
    yield from _demo_cards(app, organisation)
    yield ""
    yield "Demo accounts (password for all: " + DEMO_PASSWORD + "):"
    for email, role, _unit in DEMO_ACCOUNTS:
        if session.scalar(select(StaffUser).where(StaffUser.email == email)):
            yield f"  {role.value:10} {email}"
    yield f"Staff log in at {url_for('staff.login', _external=True)}"
    yield ""
    yield "Let days pass (in another shell, same folder and settings), then read the mail:"
    yield (
        f"  {tick_environment}guide scheduler tick --now 2026-12-24T09:00"
        "     (local time; any moment to come)"
    )
    yield f"  {url_for('inbox.index', _external=True)}"


def _demo_cards(app: Flask, organisation: Organisation) -> Iterator[str]:
    """Keep a sheet of unused demo cards per guide, and print one code of each to try."""

    session = db.session
    library = current_library()
    unit = get_unit(session, organisation, "anhorigstod")
    yield f"Demo cards (try one at {url_for('public.activate', _external=True)}):"
    for guide in library.guides.values():
        unused = session.scalar(
            select(Card).where(
                Card.organisation_id == organisation.id,
                Card.guide_id == guide.id,
                Card.status == CardStatus.NEW,
            )
        )
        if unused is None:
            batch = issue_batch(session, BatchRequest(unit, guide, DEMO_CARDS_PER_GUIDE), utcnow())
            session.commit()
        else:
            batch = session.get_one(CardBatch, unused.batch_id)
        assert batch is not None
        folder = Path(app.instance_path)
        folder.mkdir(parents=True, exist_ok=True)
        pdf = folder / f"demo-kort-{guide.id}.pdf"
        with pdf.open("wb") as handle:
            write_cards_pdf((c for c in printable_cards(session, library, batch)), handle)
        code = session.scalar(
            select(Card.code)
            .where(Card.batch_id == batch.id, Card.status == CardStatus.NEW)
            .order_by(Card.id)
        )
        yield f"  {guide.id:14} {code}   (sheet: {pdf})"
