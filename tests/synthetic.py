"""Many synthetic enrolments at once on PostgreSQL, for the race tests and the benchmarks.

Going through the web or the ORM would take minutes for a million relatives; here
each table gets one INSERT ... SELECT over generate_series, so the database does the
work. The enrolments look like relatives who redeemed a card at `activated_at`, got
the opening module then (and the welcome e-mail, written in `phase`), and whose next
moment falls due at `next_due_at`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection


def create_enrolments(
    connection: Connection,
    *,
    prefix: str,
    count: int,
    organisation_id: int,
    unit_id: int,
    guide_id: str,
    phase: str,
    activated_at: datetime,
    next_due_at: datetime | None,
    profile: dict[str, Any] | None = None,
    opening_module: tuple[str, int] | None = None,  # (module id, module_version id)
    timezone: str = "Europe/Stockholm",
) -> int:
    """Insert `count` relatives with one enrolment each; return the card batch's id.

    `prefix` keeps the e-mail addresses and card codes of several calls apart.
    """
    if connection.dialect.name != "postgresql":
        raise RuntimeError("The synthetic enrolments use generate_series: PostgreSQL only.")
    values = {
        "prefix": prefix.lower(),
        "count": count,
        "organisation": organisation_id,
        "unit": unit_id,
        "guide": guide_id,
        "phase": phase,
        "activated": activated_at,
        "next_due": next_due_at,
        "profile": json.dumps(profile or {}),
        "timezone": timezone,
        "zone": timezone,  # the same, bound a second time: PostgreSQL types each use
    }
    batch_id = connection.execute(
        text(
            "INSERT INTO card_batch (organisation_id, unit_id, guide_id, count, created_at)"
            " VALUES (:organisation, :unit, :guide, :count, :activated) RETURNING id"
        ),
        values,
    ).scalar_one()
    values["batch"] = batch_id
    connection.execute(
        text(
            "INSERT INTO relative (email, language, full_text_email, created_at)"
            " SELECT :prefix || '-' || n || '@example.se', 'sv', false, :activated"
            " FROM generate_series(1, :count) AS n"
        ),
        values,
    )
    connection.execute(
        text(
            "INSERT INTO card (code, batch_id, organisation_id, unit_id, guide_id, status,"
            " created_at, activated_at)"
            " SELECT upper(:prefix) || '-' || n, :batch, :organisation, :unit, :guide,"
            " 'activated', :activated, :activated"
            " FROM generate_series(1, :count) AS n"
        ),
        values,
    )
    connection.execute(
        text(
            "INSERT INTO enrolment (relative_id, card_id, guide_id, organisation_id, unit_id,"
            " activated_at, timezone, preferred_hour, profile, answers, muted, checkins_opened,"
            " last_email_on, notified_phase, next_due_at, status)"
            " SELECT r.id, c.id, :guide, :organisation, :unit, :activated, :timezone, 9,"
            " CAST(:profile AS json), '{}', '[]', '{}',"
            " (CAST(:activated AS timestamptz) AT TIME ZONE CAST(:zone AS text))::date,"
            " :phase, :next_due, 'active'"
            " FROM card AS c JOIN relative AS r"
            " ON r.email = lower(c.code) || '@example.se'"
            " WHERE c.batch_id = :batch"
        ),
        values,
    )
    connection.execute(
        text(
            "INSERT INTO phase_visit (enrolment_id, phase, started_at, reason)"
            " SELECT e.id, :phase, :activated, 'start'"
            " FROM enrolment AS e JOIN card AS c ON c.id = e.card_id WHERE c.batch_id = :batch"
        ),
        values,
    )
    if opening_module is not None:
        module_id, version_id = opening_module
        connection.execute(
            text(
                "INSERT INTO release (enrolment_id, module_id, module_version_id, due_at,"
                " released_at, reason)"
                " SELECT e.id, :module, :version, :activated, :activated, 'schedule'"
                " FROM enrolment AS e JOIN card AS c ON c.id = e.card_id"
                " WHERE c.batch_id = :batch"
            ),
            {**values, "module": module_id, "version": version_id},
        )
    return int(batch_id)
