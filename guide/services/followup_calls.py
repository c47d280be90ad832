"""The guide's follow-up calls: turn a due call into a case, or into an offer to call.

The pure planner (scheduler/followups.py) says which calls are due; this module
carries that out for one enrolment, exactly once. Each call gets one `followup_call`
row, inserted with ON CONFLICT DO NOTHING on (enrolment, call): of two scheduler
processes that ever got the same call, one inserts the row and makes the case, the
other inserts nothing and does nothing. All calls due together go into one case,
and a relative who already has an open case gets no second one: the call joins it.

Only a relative who consented to contact becomes a case. For the others the call is
an offer on Min guide, "Vill du att någon ringer dig?": one click gives the consent
and asks for the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from guide.content.model import Guide
from guide.models import Alert, ConsentPurpose, Enrolment, FollowupCall, Relative
from guide.models.base import DbSession
from guide.services.contact import record_contact_consent
from guide.services.followup import FollowupError, raise_alert
from guide.services.journey import record_event, state_of
from scheduler.followups import DueFollowup, FollowupPlan, plan_followups

CASE, OFFERED, ACCEPTED, DECLINED, MISSED = "case", "offered", "accepted", "declined", "missed"
CALL_OFFER_REASON = "Tackade ja till att bli uppringd"


@dataclass(frozen=True)
class FollowupOutcome:
    """What handling an enrolment's due calls did."""

    alert: Alert | None  # the case the calls made or joined
    cases: tuple[str, ...] = ()  # call ids that went into the case
    offered: tuple[str, ...] = ()  # call ids offered on Min guide instead
    missed: tuple[str, ...] = ()  # call ids whose target had passed


def handled_calls(enrolment: Enrolment) -> frozenset[str]:
    """Return the ids of the guide's calls already handled for `enrolment`."""
    return frozenset(call.followup_id for call in enrolment.followup_calls)


def due_calls(guide: Guide, enrolment: Enrolment, now: datetime) -> FollowupPlan:
    """Return the plan of `enrolment`'s calls at `now` (pure; nothing is written)."""
    return plan_followups(guide, state_of(enrolment), handled_calls(enrolment), now)


def raise_due_followups(
    session: DbSession, guide: Guide, enrolment: Enrolment, now: datetime
) -> FollowupOutcome:
    """Turn `enrolment`'s due calls into one case (or an offer), each call exactly once.

    Called by the release pass for every enrolment it advances, before the planner's
    decisions are written, so the enrolment's next due moment counts the next call.
    """
    if not guide.followups:
        return FollowupOutcome(None)
    decided = due_calls(guide, enrolment, now)
    if not decided.due:
        return FollowupOutcome(None)
    relative: Relative = enrolment.relative
    consents = relative.deleted_at is None and relative.consent(ConsentPurpose.CONTACT)
    calls_outcome = CASE if consents else OFFERED
    won: dict[str, int] = {}
    for due in decided.due:
        outcome = MISSED if due.stale else calls_outcome
        call_id = _claim(session, enrolment, due, outcome, now)
        if call_id is not None:
            won[due.followup_id] = call_id
    # The collection is read again where needed, with the rows this pass inserted.
    session.expire(enrolment, ["followup_calls"])
    claimed = [d for d in decided.calls if d.followup_id in won]
    for due in decided.missed:
        if due.followup_id in won:
            record_event(session, enrolment, "followup_missed", now, followup=due.followup_id)
    if not claimed:
        return FollowupOutcome(None, missed=tuple(d.followup_id for d in decided.missed))
    ids = tuple(d.followup_id for d in claimed)
    if not consents:
        record_event(session, enrolment, "followup_offered", now, followups=list(ids))
        return FollowupOutcome(None, offered=ids)
    reasons = [guide.followup(d.followup_id).reason.get("sv") for d in claimed]
    alert = raise_alert(
        session,
        enrolment,
        priority="normal",
        source="followup",
        reason="; ".join(dict.fromkeys(reasons)),
        now=now,
        target_at=min(d.target_at for d in claimed),
        followups=list(ids),
    )
    if alert.due_at is None or alert.due_at > now:
        alert.due_at = now
    session.execute(
        update(FollowupCall)
        .where(FollowupCall.id.in_([won[i] for i in ids]))
        .values(alert_id=alert.id)
    )
    return FollowupOutcome(alert, cases=ids)


def _claim(
    session: DbSession, enrolment: Enrolment, due: DueFollowup, outcome: str, now: datetime
) -> int | None:
    """Insert the call's row unless it exists; return its id if this insert made it."""
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(FollowupCall)
        .values(
            enrolment_id=enrolment.id,
            followup_id=due.followup_id,
            due_at=due.due_at,
            target_at=due.target_at,
            outcome=outcome,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["enrolment_id", "followup_id"])
        .returning(FollowupCall.id)
    )
    found: int | None = session.scalar(statement)
    return found


def offers_call(call_offered: bool, contact_consent: bool) -> bool:
    """Whether Min guide asks "Vill du att någon ringer dig?".

    It asks while a call offered to a relative without the consent to be contacted
    waits for an answer; a relative who has given it since is called anyway.
    """
    return call_offered and not contact_consent


def accept_call_offer(
    session: DbSession, relative: Relative, enrolment: Enrolment, now: datetime
) -> Alert:
    """Give the consent to contact and ask for the offered call: one click does both."""
    if enrolment.relative_id != relative.id:
        raise FollowupError.no_enrolment()
    offers = [c for c in enrolment.followup_calls if c.outcome == OFFERED]
    if not relative.consent(ConsentPurpose.CONTACT):
        record_contact_consent(session, relative, now)
    record_event(session, enrolment, "followup_accepted", now)
    alert = raise_alert(
        session,
        enrolment,
        priority="normal",
        source="followup",
        reason=CALL_OFFER_REASON,
        now=now,
    )
    for call in offers:
        call.outcome = ACCEPTED
        call.alert_id = alert.id
    return alert


def decline_call_offer(
    session: DbSession, relative: Relative, enrolment: Enrolment, now: datetime
) -> None:
    """Answer 'no thanks' to the offered call: nothing is recorded about the relative."""
    if enrolment.relative_id != relative.id:
        raise FollowupError.no_enrolment()
    for call in enrolment.followup_calls:
        if call.outcome == OFFERED:
            call.outcome = DECLINED
    record_event(session, enrolment, "followup_declined", now)


def open_alert_of(session: DbSession, enrolment: Enrolment) -> Alert | None:
    return session.scalar(
        select(Alert).where(Alert.enrolment_id == enrolment.id, Alert.status == "open").limit(1)
    )
