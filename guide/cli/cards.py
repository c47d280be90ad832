"""`guide cards issue`: a batch of activation cards and its printable PDF."""

from __future__ import annotations

from pathlib import Path

import click

from activation_codes.cards_pdf import write_cards_pdf
from guide.cli.group import CommandGroup
from guide.extensions import db
from guide.models.base import utcnow
from guide.services.accounts import get_organisation, get_unit
from guide.services.cards import BatchRequest, issue_batch, printable_cards
from guide.services.library import current_library


@click.group(cls=CommandGroup)
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

    library = current_library()
    if guide_id not in library.guides:
        raise click.ClickException(f"There is no guide '{guide_id}'.")
    found_unit = get_unit(db.session, get_organisation(db.session, org_slug), unit_slug)
    expires_on = expires.date() if expires is not None else None  # type: ignore[attr-defined]
    request = BatchRequest(found_unit, library.guide(guide_id), count, phase, expires_on)
    batch = issue_batch(db.session, request, utcnow())
    db.session.commit()
    with click.progressbar(length=count, label="Drawing cards") as bar, out.open("wb") as handle:
        done = 0

        def progress(total: int) -> None:
            nonlocal done
            bar.update(total - done)
            done = total

        write_cards_pdf(printable_cards(db.session, library, batch), handle, progress=progress)
    click.echo(f"Issued {count} cards (batch {batch.id}) and wrote {out}")
