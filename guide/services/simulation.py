"""The editors' journey simulator: a relative's year on the real planner and rules, in memory.

It walks an imagined enrolment with `scheduler.simulate` (the planner and rules the
release pass uses) and reads the database only to find open drafts and the enrolled
relatives a change would reach; it writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from guide.content.model import Answers, Checkin, Guide
from guide.content.workspace import read_guides
from guide.errors import GuideError
from guide.models import EditorDraft, Enrolment
from guide.models.base import DbSession
from guide.services.drafts import Workspace, draft_filename, live_files, open_drafts
from guide.services.journey import decode_answers, state_of
from scheduler.planner import EnrolmentState
from scheduler.simulate import Respond, simulate

TIMELINE_KINDS = ("phase", "release", "checkin")


class SimulationError(GuideError):
    @classmethod
    def phase_unknown(cls, phase: str) -> SimulationError:
        return cls(
            "start_phase_unknown", f"Guiden har ingen fas som heter {phase}.", 400, "start_phase"
        )

    @classmethod
    def drafts_invalid(cls, messages: list[str]) -> SimulationError:
        listing = "; ".join(messages[:5])
        return cls(
            "drafts_invalid",
            f"De öppna utkasten går inte att läsa tillsammans: {listing}",
            422,
            "include_drafts",
        )


@dataclass(frozen=True)
class TimelineItem:
    at: datetime  # UTC
    kind: str  # release | checkin | phase | email
    id: str

    def as_json(self, zone: Any) -> dict[str, str]:
        return {"at": self.at.astimezone(zone).isoformat(), "kind": self.kind, "id": self.id}


def scripted(answers: Mapping[str, Sequence[Mapping[str, Any] | None]]) -> Respond:
    """Answer each check-in with its next scripted answers, in turn; none left: no answer."""
    remaining = {checkin: list(script) for checkin, script in answers.items()}

    def respond(checkin: Checkin, _moment: datetime) -> Answers | None:
        queue = remaining.get(checkin.id)
        if not queue:
            return None
        given = queue.pop(0)
        return decode_answers(dict(given)) if given is not None else None

    return respond


def journey_timeline(
    guide: Guide,
    *,
    start: datetime,
    days: int,
    profile: Mapping[str, Any],
    answers: Mapping[str, Sequence[Mapping[str, Any] | None]],
    start_phase: str | None = None,
    timezone: str = "Europe/Stockholm",
    preferred_hour: int = 9,
) -> list[TimelineItem]:
    """Return every release, check-in, phase change and e-mail of `days` days after `start`."""
    phase = start_phase or guide.first_phase.id
    if not guide.has_phase(phase):
        raise SimulationError.phase_unknown(phase)
    state = EnrolmentState.enrol(
        start,
        phase,
        profile=decode_answers(dict(profile)),
        timezone=timezone,
        preferred_hour=preferred_hour,
    )
    journey = simulate(guide, state, start + timedelta(days=days), respond=scripted(answers))
    kind_order = {"phase": 0, "release": 1, "checkin": 2}
    events = sorted(
        (e for e in journey.events if e.kind in TIMELINE_KINDS),
        key=lambda e: (e.at, kind_order[e.kind]),
    )
    items: list[TimelineItem] = []
    mailed_days: set[Any] = set()
    for event in events:
        day = state.local_date(event.at)
        if event.kind in ("release", "checkin") and day not in mailed_days:
            # All that falls due on one day goes out as one e-mail.
            mailed_days.add(day)
            items.append(TimelineItem(event.at, "email", day.isoformat()))
        items.append(TimelineItem(event.at, event.kind, event.id))
    order = {"phase": 0, "email": 1, "release": 2, "checkin": 3}
    return sorted(items, key=lambda i: (i.at, order[i.kind], i.id))


def guide_with_drafts(
    session: DbSession, workspace: Workspace, guide_id: str
) -> tuple[Guide, list[EditorDraft]]:
    """Return the guide as it would be with every open draft published (the newest per file)."""
    guide = workspace.guide(guide_id)
    drafts: dict[str, EditorDraft] = {}
    for draft in open_drafts(session, guide_id):
        drafts[f"{draft.module_id}/{draft.language}"] = draft
    if not drafts:
        return guide, []
    overrides: dict[str, dict[str, str] | None] = {}
    for draft in drafts.values():
        if draft.retire:
            overrides[draft.module_id] = None
            continue
        files = overrides.get(draft.module_id)
        if files is None:
            files = live_files(session, workspace, guide_id, draft.module_id)
        files[draft_filename(workspace, draft)] = draft.source
        overrides[draft.module_id] = files
    result = read_guides(workspace.content_dir, {guide_id: overrides})
    if result.errors or guide_id not in result.library.guides:
        raise SimulationError.drafts_invalid([p.message for p in result.errors])
    return result.library.guides[guide_id], list(drafts.values())


def relatives_reached(
    session: DbSession, guide: Guide, modules: set[str], now: datetime, days: int = 7
) -> int:
    """Count active enrolments of the guide that would get one of `modules` in the next days."""
    if not modules:
        return 0
    enrolments = session.scalars(
        select(Enrolment).where(Enrolment.guide_id == guide.id, Enrolment.status == "active")
    )
    count = 0
    for enrolment in enrolments:
        state = state_of(enrolment)
        journey = simulate(guide, state, now + timedelta(days=days), start=now)
        if any(e.kind == "release" and e.id in modules for e in journey.events):
            count += 1
    return count
