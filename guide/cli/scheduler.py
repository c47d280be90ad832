"""`guide scheduler run` and `guide scheduler tick`: the release engine from the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import click
from flask import current_app

from guide.cli.group import CommandGroup
from guide.extensions import db
from guide.models.base import utcnow
from guide.services.library import current_library
from guide.services.prune import prune
from guide.services.retention import run_retention
from scheduler.jobs import deliver_outbox, release_due
from scheduler.runner import interval_of, run_blocking


@click.group(cls=CommandGroup)
def scheduler() -> None:
    """Release due modules and send e-mail."""


@scheduler.command("run")
def scheduler_run() -> None:
    """Run release and delivery passes every GUIDE_SCHEDULER_INTERVAL seconds until stopped."""

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_blocking(
        app,
        started=lambda: click.echo(
            f"Releasing due modules and sending e-mail every {interval_of(app)} s; Ctrl+C stops.",
        ),
    )


def parse_moment(value: str | None, zone: str) -> datetime:
    """Read an ISO 8601 moment; without a zone it is local time in `zone`."""

    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not an ISO 8601 time; write it like 2026-03-29T09:00 or "
            "2026-03-29T07:00:00+00:00.",
            param_hint="'--now'",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


@scheduler.command("tick")
@click.option(
    "--now",
    "when",
    metavar="ISO",
    help="Run as if it were this moment (default: the real time); no zone means local time.",
)
def scheduler_tick(when: str | None) -> None:
    """Run one release pass and one delivery pass at the given moment and print the counts."""

    # Parsed here, not in an option callback: the app (and its time zone) exists only now.
    now = parse_moment(when, current_app.config["GUIDE_TIMEZONE"])
    released = release_due(db.session, current_library(), now)
    click.echo(
        f"{now.isoformat()}: released {released.releases} module(s) and opened "
        f"{released.checkins} check-in(s) for {released.enrolments} enrolment(s); "
        f"{released.notices} notice(s) queued; {len(released.failed)} failed"
    )
    kept = run_retention(db.session, now, current_app.config["GUIDE_RETENTION_DAYS"])
    click.echo(
        f"{now.isoformat()}: retention warned {kept.warned} and erased {kept.erased} "
        f"account(s); {kept.cards_purged} expired card(s) purged"
    )
    delivered = deliver_outbox(db.session, now)
    click.echo(
        f"{now.isoformat()}: sent {delivered.sent} e-mail(s); {delivered.retrying} to retry; "
        f"{delivered.failed} failed; {delivered.unrenderable} could not be rendered"
    )
    problems = []
    if released.failed:
        failed = ", ".join(str(enrolment_id) for enrolment_id in released.failed)
        problems.append(f"enrolments that could not be advanced: {failed}")
    if delivered.unrenderable:
        problems.append(
            f"{delivered.unrenderable} e-mail(s) could not be rendered; they wait for a fixed "
            "release or an admin's retry at /admin/e-post/"
        )
    if problems:
        raise click.ClickException("A fault in Lots (see the log): " + "; ".join(problems))


@scheduler.command("prune")
@click.option(
    "--events-older-than",
    "event_days",
    type=click.IntRange(min=1),
    metavar="DAYS",
    help="Delete journey events older than this many days.",
)
@click.option(
    "--sent-older-than",
    "sent_days",
    type=click.IntRange(min=30),
    metavar="DAYS",
    help="Delete outbox messages sent more than this many days ago (at least 30).",
)
def scheduler_prune(event_days: int | None, sent_days: int | None) -> None:
    """Delete old events and old sent e-mail from the database, in chunks."""

    if event_days is None and sent_days is None:
        raise click.UsageError("Say what to prune: --events-older-than and/or --sent-older-than.")
    pruned = prune(
        db.session,
        utcnow(),
        events_older_than=timedelta(days=event_days) if event_days else None,
        sent_older_than=timedelta(days=sent_days) if sent_days else None,
    )
    click.echo(f"deleted {pruned.events} event(s) and {pruned.sent_messages} sent message(s)")
