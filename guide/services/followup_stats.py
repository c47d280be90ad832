"""Statistics of the follow-up queue: contacted within target and time to first contact.

Per unit of one organisation over a period (cases that came in from `start` up to
`end`). A case's outcome is known once staff made first contact or its target passed;
the share within target counts only those. The median time to first contact counts
from when the case was there to work (a follow-up call's working morning) to the
first "kontaktad". Counts below 5 are shown as "<5", and a share or a median of fewer
than 5 cases is not shown at all (SPEC §10), so no single relative can be picked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import select

from guide.models import Alert, Unit
from guide.models.base import DbSession

SMALLEST_SHOWN = 5


@dataclass(frozen=True)
class ContactFigures:
    """The queue's figures for one unit and period, before suppression."""

    unit_id: int
    unit_name: str
    cases: int  # came in during the period
    decided: int  # contacted, or past the target without contact
    within_target: int  # first contact by the target
    median_to_first_contact: timedelta | None

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.decided if self.decided else None

    def shown(self) -> dict[str, object]:
        """Return the figures as they may be shown: small counts as "<5"."""
        enough = self.decided >= SMALLEST_SHOWN
        share = self.share_within_target
        hours = (
            round(self.median_to_first_contact.total_seconds() / 3600, 1)
            if self.median_to_first_contact is not None and enough
            else None
        )
        return {
            "unit": self.unit_name,
            "cases": _count(self.cases),
            "within_target": _count(self.within_target),
            "share_within_target": round(share, 3) if share is not None and enough else None,
            "median_hours_to_first_contact": hours,
        }


def contact_figures(
    session: DbSession,
    organisation_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    unit_id: int | None = None,
) -> list[ContactFigures]:
    """Return each unit's contact figures for cases that came in from `start` to `end`."""
    query = (
        select(Alert, Unit.name)
        .join(Unit, Unit.id == Alert.unit_id)
        .where(
            Alert.organisation_id == organisation_id,
            Alert.created_at >= start,
            Alert.created_at < end,
        )
        .order_by(Unit.name, Alert.id)
    )
    if unit_id is not None:
        query = query.where(Alert.unit_id == unit_id)
    by_unit: dict[int, tuple[str, list[Alert]]] = {}
    for alert, name in session.execute(query).all():
        by_unit.setdefault(alert.unit_id, (name, []))[1].append(alert)
    return [_figures(unit, name, alerts, now) for unit, (name, alerts) in by_unit.items()]


def _figures(unit_id: int, name: str, alerts: list[Alert], now: datetime) -> ContactFigures:
    decided = within = 0
    waits: list[timedelta] = []
    for alert in alerts:
        started = alert.due_at or alert.created_at
        if alert.first_contact_at is not None:
            waits.append(max(alert.first_contact_at - started, timedelta(0)))
        if alert.target_at is None:
            continue
        if alert.first_contact_at is not None:
            decided += 1
            within += alert.first_contact_at <= alert.target_at
        elif now > alert.target_at:
            decided += 1
    return ContactFigures(
        unit_id=unit_id,
        unit_name=name,
        cases=len(alerts),
        decided=decided,
        within_target=within,
        median_to_first_contact=_median(waits),
    )


def _median(waits: list[timedelta]) -> timedelta | None:
    if not waits:
        return None
    return timedelta(seconds=median(w.total_seconds() for w in waits))


def _count(n: int) -> int | str:
    return "<5" if 0 < n < SMALLEST_SHOWN else n
