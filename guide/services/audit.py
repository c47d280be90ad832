"""The audit log: a row for each sensitive action, and who read which relative's contact details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from guide.models import Alert, AuditLog, StaffUser
from guide.models.base import DbSession


def record_audit(
    session: DbSession,
    staff: StaffUser,
    action: str,
    target_type: str,
    target_id: int,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Add an audit row: who did `action` to which row, and when."""
    session.add(
        AuditLog(
            staff_user_id=staff.id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
            at=now,
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    """One staff read; it names the alert, never the relative, so it outlives an erasure."""

    at: datetime
    staff_email: str | None
    action: str
    alert_id: int
    unit_id: int


def audit_entries(
    session: DbSession, organisation_id: int | None, limit: int = 500
) -> list[AuditEntry]:
    """Return the newest reads of contact details in the organisation (None: every one)."""
    query = (
        select(AuditLog, StaffUser.email, Alert.unit_id)
        .join(Alert, (AuditLog.target_type == "alert") & (AuditLog.target_id == Alert.id))
        .outerjoin(StaffUser, StaffUser.id == AuditLog.staff_user_id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    )
    if organisation_id is not None:
        query = query.where(Alert.organisation_id == organisation_id)
    return [
        AuditEntry(entry.at, email, entry.action, entry.target_id, unit_id)
        for entry, email, unit_id in session.execute(query)
    ]
