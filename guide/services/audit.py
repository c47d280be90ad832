"""The audit log as the organisation's admin reads it: who read which relative's contact details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from guide.models import Alert, AuditLog, StaffUser
from guide.models.base import DbSession


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
