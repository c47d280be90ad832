"""What a relative sees of a journey: used alike by Min guide and by GET /api/v1/me/journey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from guide.content.model import Guide, Library, Localised
from guide.content.render import render_markdown
from guide.errors import N_
from guide.models import (
    CheckinInstance,
    ContactPerson,
    Enrolment,
    FollowupCall,
    ModuleVersion,
    Relative,
    Release,
)
from guide.models.base import DbSession
from guide.services.contact_person import ShownContact, shown_contact
from guide.services.followup_calls import call_offer
from guide.services.local_facts import local_values


@dataclass(frozen=True)
class ModuleItem:
    id: str
    title: str
    summary: str
    released_at: datetime | None
    read: bool
    updated: bool  # the module changed after it was released to this relative


@dataclass(frozen=True)
class JourneySummary:
    enrolment: Enrolment
    guide: Guide
    phase_id: str
    phase_title: str
    released: list[ModuleItem]
    library: list[ModuleItem]  # modules of phases reached, readable on demand
    open_checkins: list[CheckinInstance]
    next_module_at: datetime | None
    contact_person: ShownContact  # "Din kontaktperson", or the unit's contact
    call_offer: FollowupCall | None  # "Vill du att någon ringer dig?"

    def as_json(self) -> dict[str, Any]:
        return {
            "enrolment": self.enrolment.id,
            "guide": {"id": self.guide.id, "title": self.guide.title.get(self._language)},
            "phase": {"id": self.phase_id, "title": self.phase_title},
            "released": [_item_json(m) for m in self.released],
            "library": [_item_json(m) for m in self.library],
            "open_checkins": [
                {"id": c.id, "checkin": c.checkin_id, "opened_at": c.opened_at.isoformat()}
                for c in self.open_checkins
            ],
            "next_module_at": self.next_module_at.isoformat() if self.next_module_at else None,
            "crisis": self.guide.crisis.get(self._language) if self.guide.crisis else None,
            "contact_person": self.contact_person.as_json(),
            "call_offered": self.call_offer is not None,
        }

    @property
    def _language(self) -> str:
        return self.enrolment.relative.language


def _item_json(item: ModuleItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "summary": item.summary,
        "released_at": item.released_at.isoformat() if item.released_at else None,
        "read": item.read,
        "updated": item.updated,
    }


def version_text(version: ModuleVersion, language: str) -> dict[str, Any]:
    """Return a released version's texts in `language`, else in its original language.

    Each text is a `Localised` that says which language it is in.
    """
    texts = version.texts
    chosen = language if texts.get(language) else next(iter(texts))
    return {
        key: Localised(value, chosen) if isinstance(value, str) else value
        for key, value in texts[chosen].items()
    }


def journey_summaries(
    session: DbSession, library: Library, relative: Relative, now: datetime
) -> list[JourneySummary]:
    """Return the relative's view of every enrolment, newest first, in two statements.

    The enrolments with their phase visits, unit, follow-up calls, contact person, open
    check-ins, pending contact requests and the relative's consents in one; their releases with the released
    versions in the other: however long the journeys are. The next module's date is the
    one the last plan stored; no planner runs for a page.
    """
    enrolments = list(
        session.scalars(
            select(Enrolment)
            .where(Enrolment.relative_id == relative.id)
            .order_by(Enrolment.activated_at.desc(), Enrolment.id.desc())
            .options(
                joinedload(Enrolment.phase_visits),
                joinedload(Enrolment.unit),
                joinedload(Enrolment.followup_calls),
                joinedload(Enrolment.contact_person).joinedload(ContactPerson.staff),
                joinedload(Enrolment.contact_person).joinedload(ContactPerson.profile),
                joinedload(Enrolment.open_checkins),
                joinedload(Enrolment.pending_contact_requests),
                joinedload(Enrolment.relative).joinedload(Relative.consents),
                selectinload(Enrolment.releases).joinedload(Release.version),
            )
        ).unique()
    )
    return [journey_summary(session, library, e, now, list(e.open_checkins)) for e in enrolments]


def _open_checkins(enrolment_ids: list[int]) -> Any:
    return (
        select(CheckinInstance)
        .where(
            CheckinInstance.enrolment_id.in_(enrolment_ids),
            CheckinInstance.answered_at.is_(None),
            CheckinInstance.expired_at.is_(None),
        )
        .order_by(CheckinInstance.opened_at.desc(), CheckinInstance.id.desc())
    )


def journey_summary(
    session: DbSession,
    library: Library,
    enrolment: Enrolment,
    now: datetime,
    open_checkins: list[CheckinInstance] | None = None,
) -> JourneySummary:
    """Return the relative's view of one enrolment at `now` (its open check-ins if known)."""
    guide = library.guide(enrolment.guide_id)
    language = enrolment.relative.language
    released = []
    for release in enrolment.releases:  # newest first
        text = version_text(release.version, language)
        current = guide.module(release.module_id) if guide.has_module(release.module_id) else None
        released.append(
            ModuleItem(
                id=release.module_id,
                title=text["title"],
                summary=text["summary"],
                released_at=release.released_at,
                read=release.read_at is not None,
                updated=current is not None
                and current.content_hash != release.version.content_hash,
            )
        )
    released_ids = {r.module_id for r in enrolment.releases}
    reached = {visit.phase for visit in enrolment.phase_visits}
    library_items = [
        ModuleItem(
            m.id,
            Localised(m.text(language).title, m.text(language).language),
            Localised(m.text(language).summary, m.text(language).language),
            None,
            False,
            False,
        )
        for phase in guide.phases
        if phase.id in reached
        for m in guide.modules_in_phase(phase.id)
        if m.id not in released_ids and not m.release.on_demand
    ]
    if open_checkins is None:
        open_checkins = list(session.scalars(_open_checkins([enrolment.id])))
    phase_id = enrolment.current_phase
    return JourneySummary(
        enrolment=enrolment,
        guide=guide,
        phase_id=phase_id,
        phase_title=guide.phase(phase_id).title.get(language)
        if guide.has_phase(phase_id)
        else phase_id,
        released=released,
        library=_unique(library_items),
        open_checkins=open_checkins,
        # Stored by the last plan (release pass, enrolment, answers): no planner per view.
        next_module_at=enrolment.next_module_at,
        contact_person=shown_contact(session, enrolment),
        call_offer=call_offer(enrolment),
    )


def _unique(items: list[ModuleItem]) -> list[ModuleItem]:
    seen: set[str] = set()
    result = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            result.append(item)
    return result


def enrolments_of(session: DbSession, relative: Relative) -> list[Enrolment]:
    return list(
        session.scalars(
            select(Enrolment)
            .where(Enrolment.relative_id == relative.id)
            .order_by(Enrolment.activated_at.desc())
        )
    )


def enrolment_of(session: DbSession, relative: Relative, enrolment_id: int) -> Enrolment:
    """Return one of the relative's own enrolments, or 404 (never someone else's)."""
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.relative_id != relative.id:
        abort(404, N_("Guiden finns inte."))
    return enrolment


@dataclass(frozen=True)
class ModulePage:
    module_id: str
    title: str
    summary: str
    html: Markup
    released: Release | None
    needs: list[tuple[str, str]]
    updated: bool
    showing_current: bool = False  # an updated module shown in its new text, on request
    language: str = ""  # the language the title and body are in (a fallback, or the one asked)


def module_page(
    session: DbSession,
    library: Library,
    enrolment: Enrolment,
    module_id: str,
    now: datetime,
    link_for: Any = None,
    current: bool = False,
) -> ModulePage:
    """Return a module as this relative may read it; opening a released module marks it read.

    A released module shows exactly the version that was released; with `current`, an
    updated one shows its new text instead. A module of a phase already reached shows
    its current text (the library). Anything else is a 404.
    """
    guide = library.guide(enrolment.guide_id)
    language = enrolment.relative.language
    release = next((r for r in enrolment.releases if r.module_id == module_id), None)
    values = local_values(session, enrolment.organisation_id, enrolment.unit_id)
    showing_current = False
    if release is not None:
        text = version_text(release.version, language)
        if release.read_at is None:
            release.read_at = now
        live = guide.module(module_id) if guide.has_module(module_id) else None
        updated = live is not None and live.content_hash != release.version.content_hash
        if updated and current and live is not None:
            mt = live.text(language)
            text = {"title": mt.title, "summary": mt.summary, "body": mt.body}
            showing_current = True
    else:
        reached = {visit.phase for visit in enrolment.phase_visits}
        if not guide.has_module(module_id):
            abort(404, N_("Avsnittet finns inte."))
        module = guide.module(module_id)
        if module.release.on_demand or not reached.intersection(module.phases):
            abort(404, N_("Avsnittet finns inte i din guide än."))
        mt = module.text(language)
        text = {
            "title": Localised(mt.title, mt.language),
            "summary": Localised(mt.summary, mt.language),
            "body": mt.body,
            "needs": dict(mt.needs),
        }
        updated = False
    module_needs: list[tuple[str, str]] = []
    if guide.has_module(module_id):
        module_needs = [
            (need.id, need.text.get(language, guide.fallback_language))
            for need in guide.module(module_id).needs
        ]
    visible = {r.module_id for r in enrolment.releases}
    reached = {visit.phase for visit in enrolment.phase_visits}
    visible |= {
        m.id for m in guide.modules if not m.release.on_demand and reached.intersection(m.phases)
    }

    def link(target: str) -> str | None:
        if target not in visible:
            return None
        return url_for("journey.module", enrolment_id=enrolment.id, module_id=target)

    html = render_markdown(text["body"], values, library.local_facts, link_for or link)
    return ModulePage(
        module_id,
        text["title"],
        text["summary"],
        html,
        release,
        module_needs,
        updated,
        showing_current,
        language=getattr(text["title"], "language", ""),
    )
