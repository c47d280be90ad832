"""The morning e-mail to unit staff: cases are due or overdue in your queue (a link only).

One e-mail a working day per staff member, from 09:00 local, and only when their unit
has open cases that are there to work. It names no relative and holds no personal
data: the number of cases and a link to the queue behind the login. The outbox key
`digest:<staff>:<local date>` is inserted with ON CONFLICT DO NOTHING, so two scheduler
processes at nine o'clock still send it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from guide.models import Alert, OutboxMessage, StaffRole, StaffUser
from guide.models.base import DbSession
from guide.services.followup import OPEN
from scheduler.followups import WORKDAY_OPENS, is_working_day


@dataclass(frozen=True)
class UnitCases:
    unit_id: int
    organisation_id: int
    due: int  # open cases there to work
    overdue: int  # of which past their target


def cases_by_unit(session: DbSession, now: datetime) -> list[UnitCases]:
    """Count the open cases there to work, and the overdue ones, per unit."""
    overdue = func.sum(case((Alert.target_at < now, 1), else_=0))
    rows = session.execute(
        select(Alert.unit_id, Alert.organisation_id, func.count(Alert.id), overdue)
        .where(
            Alert.status == OPEN,
            Alert.first_contact_at.is_(None),
            func.coalesce(Alert.due_at, Alert.created_at) <= now,
        )
        .group_by(Alert.unit_id, Alert.organisation_id)
        .order_by(Alert.unit_id)
    ).all()
    return [UnitCases(u, o, int(d), int(od or 0)) for u, o, d, od in rows]


def queue_morning_digests(session: DbSession, now: datetime, timezone: str | None = None) -> int:
    """Queue today's morning e-mail for staff whose unit has cases to work; return how many.

    Before 09:00 local and on Saturdays and Sundays nothing is queued; staff who got
    today's already get nothing more.
    """
    zone = ZoneInfo(timezone or _timezone())
    local = now.astimezone(zone)
    if not is_working_day(local.date()) or local.hour < WORKDAY_OPENS:
        return 0
    queued = 0
    for unit in cases_by_unit(session, now):
        for staff in _recipients(session, unit):
            queued += _queue_once(
                session,
                key=f"digest:{staff.id}:{local.date().isoformat()}",
                recipient=staff.email,
                payload={"due": unit.due, "overdue": unit.overdue},
                now=now,
            )
    return queued


def _recipients(session: DbSession, unit: UnitCases) -> list[StaffUser]:
    """The unit's active staff; a unit without any: its organisation's admins."""
    active = StaffUser.deactivated_at.is_(None)
    in_unit = list(
        session.scalars(
            select(StaffUser)
            .where(active, StaffUser.unit_id == unit.unit_id)
            .where(StaffUser.organisation_id == unit.organisation_id)
            .order_by(StaffUser.id)
        )
    )
    if in_unit:
        return in_unit
    return list(
        session.scalars(
            select(StaffUser)
            .where(active, StaffUser.organisation_id == unit.organisation_id)
            .where(StaffUser.role == StaffRole.ORG_ADMIN)
            .order_by(StaffUser.id)
        )
    )


def _queue_once(
    session: DbSession, key: str, recipient: str, payload: dict[str, Any], now: datetime
) -> int:
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage)
        .values(
            idempotency_key=key,
            kind="digest",
            recipient=recipient,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )
    return 1 if session.scalar(statement) is not None else 0


def _timezone() -> str:
    return str(current_app.config["GUIDE_TIMEZONE"]) if has_app_context() else "Europe/Stockholm"
