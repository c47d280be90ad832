"""Carry out the planner's decisions on an enrolment in the database.

The planner (scheduler/planner.py) decides; this module translates between the
database rows and the planner's immutable state, and writes what a plan means:
phase visits, releases pointing at the published module version, opened check-ins,
events, one notice in the outbox, and the new `next_due_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from guide.content.model import Guide, Module
from guide.mail.outbox import queue_message
from guide.models import (
    CheckinInstance,
    Enrolment,
    Event,
    ModuleVersion,
    OutboxMessage,
    PhaseVisitRow,
    Release,
)
from guide.models.base import DbSession
from guide.services.versions import module_texts
from scheduler.followups import earliest, plan_followups
from scheduler.planner import EnrolmentState, PhaseVisit, Plan, apply_plan, plan


def decode_answers(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn stored JSON answers into planner answers (a multi answer is a frozenset)."""
    return {
        key: frozenset(value) if isinstance(value, list) else value for key, value in raw.items()
    }


def encode_answers(answers: dict[str, Any]) -> dict[str, Any]:
    return {
        key: sorted(value) if isinstance(value, (set, frozenset)) else value
        for key, value in answers.items()
    }


def state_of(enrolment: Enrolment) -> EnrolmentState:
    """Return the planner's view of an enrolment row."""
    return EnrolmentState(
        activated_at=enrolment.activated_at,
        phase_history=tuple(PhaseVisit(v.phase, v.started_at) for v in enrolment.phase_visits),
        timezone=enrolment.timezone,
        preferred_hour=enrolment.preferred_hour,
        profile=decode_answers(enrolment.profile or {}),
        answers=decode_answers(enrolment.answers or {}),
        released=frozenset(r.module_id for r in enrolment.releases),
        muted=frozenset(enrolment.muted or []),
        checkins_opened={
            key: datetime.fromisoformat(value)
            for key, value in (enrolment.checkins_opened or {}).items()
        },
        last_email_on=enrolment.last_email_on,
    )


def record_event(
    session: DbSession, enrolment: Enrolment, kind: str, at: datetime, **data: Any
) -> Event:
    event = Event(enrolment_id=enrolment.id, kind=kind, at=at, data=data)
    session.add(event)
    return event


def published_version(session: DbSession, module: Module) -> ModuleVersion:
    """Return the stored version of the module as it is now, storing it if it is new."""
    query = select(ModuleVersion).where(
        ModuleVersion.guide_id == module.guide,
        ModuleVersion.module_id == module.id,
        ModuleVersion.content_hash == module.content_hash,
    )
    version = session.scalar(query)
    if version is None:
        version = ModuleVersion(
            guide_id=module.guide,
            module_id=module.id,
            content_hash=module.content_hash,
            texts=module_texts(module),
        )
        try:
            with session.begin_nested():
                session.add(version)
        except IntegrityError:
            # Another scheduler process stored the same text a moment ago: use theirs.
            version = session.scalars(query).one()
    return version


def release_module(
    session: DbSession,
    enrolment: Enrolment,
    module: Module,
    now: datetime,
    due_at: datetime | None = None,
    reason: str = "schedule",
) -> Release | None:
    """Release one module now, unless it was released before (a module comes only once)."""
    if any(r.module_id == module.id for r in enrolment.releases):
        return None
    release = Release(
        enrolment_id=enrolment.id,
        module_id=module.id,
        module_version_id=published_version(session, module).id,
        due_at=due_at or now,
        released_at=now,
        reason=reason,
    )
    enrolment.releases.append(release)
    record_event(session, enrolment, "released", now, module=module.id, reason=reason)
    return release


def open_checkin(
    session: DbSession, enrolment: Enrolment, checkin_id: str, due_at: datetime, now: datetime
) -> CheckinInstance:
    """Open a check-in occurrence; an older unanswered one of the same check-in expires."""
    older = session.scalars(
        select(CheckinInstance).where(
            CheckinInstance.enrolment_id == enrolment.id,
            CheckinInstance.checkin_id == checkin_id,
            CheckinInstance.answered_at.is_(None),
            CheckinInstance.expired_at.is_(None),
        )
    )
    for instance in older:
        instance.expired_at = now
        record_event(session, enrolment, "checkin_expired", now, checkin=checkin_id)
    instance = CheckinInstance(
        enrolment_id=enrolment.id, checkin_id=checkin_id, due_at=due_at, opened_at=now
    )
    session.add(instance)
    opened = dict(enrolment.checkins_opened or {})
    opened[checkin_id] = due_at.isoformat()
    enrolment.checkins_opened = opened
    record_event(session, enrolment, "checkin_opened", now, checkin=checkin_id)
    return instance


@dataclass(frozen=True)
class Advance:
    """What one advance did to an enrolment."""

    plan: Plan
    releases: tuple[Release, ...]
    checkins: tuple[CheckinInstance, ...]
    notice: OutboxMessage | None


def advance_enrolment(
    session: DbSession, guide: Guide, enrolment: Enrolment, now: datetime, notify: bool = True
) -> Advance:
    """Apply everything due for the enrolment at `now` and store when the next thing is due.

    With `notify`, whatever was released or opened goes into one outbox notice (one
    e-mail); the caller commits, so the notice exists exactly when the releases do.
    """
    state = state_of(enrolment)
    decided = plan(guide, state, now)
    for visit in decided.phase_changes:
        enrolment.phase_visits.append(
            PhaseVisitRow(phase=visit.phase, started_at=visit.started_at, reason="duration")
        )
        record_event(session, enrolment, "phase_changed", now, phase=visit.phase, reason="duration")
    releases = []
    for due in decided.releases:
        release = release_module(session, enrolment, guide.module(due.module_id), now, due.due_at)
        if release is not None:
            releases.append(release)
    checkins = [
        open_checkin(session, enrolment, due.checkin_id, due.due_at, now)
        for due in decided.checkins
    ]
    if decided.sends_email:
        enrolment.last_email_on = state_of(enrolment).local_date(now)
    enrolment.next_due_at = earliest(
        decided.next_due_at, next_call_at(guide, enrolment, apply_plan(state, decided, now), now)
    )
    enrolment.next_module_at = decided.next_module_at  # what the relative's pages show
    session.flush()  # one UPDATE of the enrolment; and the notice names the new rows by id
    notice = None
    if decided.sends_email and notify:
        notice = queue_notice(session, enrolment, releases, checkins, now)
    return Advance(decided, tuple(releases), tuple(checkins), notice)


def next_call_at(
    guide: Guide, enrolment: Enrolment, state: EnrolmentState, now: datetime
) -> datetime | None:
    """Return when the release pass must next look at the enrolment's follow-up calls.

    A call due and not handled yet is due now (the pass turns it into a case); the
    pass itself handles calls before it writes the plan (guide.services.followup_calls).
    """
    if not guide.followups:
        return None
    handled = frozenset(call.followup_id for call in enrolment.followup_calls)
    calls = plan_followups(guide, state, handled, now)
    return calls.due[0].due_at if calls.due else calls.next_at


def queue_notice(
    session: DbSession,
    enrolment: Enrolment,
    releases: list[Release],
    checkins: list[CheckinInstance],
    now: datetime,
) -> OutboxMessage | None:
    """Put one notice about new modules and check-ins in the outbox (never twice), due at `now`."""

    if not releases and not checkins:
        return None
    parts = [f"r{r.id}" for r in releases] + [f"c{c.id}" for c in checkins]
    payload: dict[str, Any] = {
        "releases": [r.id for r in releases],
        "checkins": [c.id for c in checkins],
    }
    # A check-in answer or a phase's end moved the journey on since the last e-mail.
    phase = enrolment.current_phase
    if enrolment.notified_phase is not None and enrolment.notified_phase != phase:
        payload["new_phase"] = phase
    message = queue_message(
        session,
        kind="notice",
        relative=enrolment.relative,
        key=f"notice:{enrolment.id}:{'-'.join(parts)}",
        enrolment=enrolment,
        payload=payload,
        now=now,
    )
    if message is not None:
        enrolment.notified_phase = phase
    return message
