"""What a relative sees of a journey: used alike by Min guide and by GET /api/v1/me/journey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from flask import abort, url_for
from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, bindparam, exists, func, select

from guide.content.model import Guide, Library, Localised
from guide.content.render import render_markdown
from guide.errors import N_
from guide.models import (
    Alert,
    CheckinInstance,
    Consent,
    ConsentPurpose,
    ContactPerson,
    Enrolment,
    FollowupCall,
    ModuleVersion,
    PhaseVisitRow,
    Relative,
    Release,
    StaffProfile,
    StaffUser,
    Unit,
)
from guide.models.base import DbSession
from guide.models.relatives import latest_answer
from guide.services.contact import waiting_contact_request
from guide.services.contact_person import ShownContact, contact_shown
from guide.services.followup_calls import OFFERED, offers_call
from guide.services.local_facts import local_values


@dataclass(frozen=True)
class ModuleItem:
    id: str
    title: str
    summary: str
    released_at: datetime | None
    read: bool
    updated: bool  # the module changed after it was released to this relative


class OpenCheckin(NamedTuple):
    """A check-in occurrence waiting for the relative's answer, as its row holds it."""

    id: int
    checkin_id: str
    opened_at: datetime


@dataclass(frozen=True)
class JourneySummary:
    enrolment_id: int
    language: str  # the relative's
    unit_name: str  # the unit that issued the card
    guide: Guide
    phase_id: str
    phase_title: str
    released: list[ModuleItem]
    library: list[ModuleItem]  # modules of phases reached, readable on demand
    open_checkins: list[OpenCheckin]  # newest first
    next_module_at: datetime | None
    contact_person: ShownContact  # "Din kontaktperson", or the unit's contact
    call_offered: bool  # "Vill du att någon ringer dig?"
    contact_asked_at: datetime | None  # the newest request to be contacted not yet answered

    def as_json(self) -> dict[str, Any]:
        return {
            "enrolment": self.enrolment_id,
            "guide": {"id": self.guide.id, "title": self.guide.title.get(self.language)},
            "phase": {"id": self.phase_id, "title": self.phase_title},
            "released": [_item_json(m) for m in self.released],
            "library": [_item_json(m) for m in self.library],
            "open_checkins": [
                {"id": c.id, "checkin": c.checkin_id, "opened_at": c.opened_at.isoformat()}
                for c in self.open_checkins
            ],
            "next_module_at": self.next_module_at.isoformat() if self.next_module_at else None,
            "crisis": self.guide.crisis.get(self.language) if self.guide.crisis else None,
            "contact_person": self.contact_person.as_json(),
            "call_offered": self.call_offered,
        }


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
    return texts_in(version.texts, language)


def texts_in(texts: dict[str, Any], language: str) -> dict[str, Any]:
    """Return a version's texts (language -> texts) in `language`, else in its first language."""
    chosen = language if texts.get(language) else next(iter(texts))
    return {
        key: Localised(value, chosen) if isinstance(value, str) else value
        for key, value in texts[chosen].items()
    }


def journey_summaries(
    session: DbSession, library: Library, relative: Relative
) -> list[JourneySummary]:
    """Return the relative's view of every enrolment, newest first, in two statements.

    One reads the enrolments with what the page shows of them: the unit, the named
    contact person, the phases reached, the open check-ins, the consent to be
    contacted, whether a call is offered and when contact was asked for. The other
    reads their releases with the released versions' texts: however long the journeys
    are. Both are read as rows, not as mapped objects: building those was most of a
    page's time. The next module's date is the one the last plan stored; no planner
    runs for a page.
    """
    return _summaries(session, library, relative, _enrolments_of_relative(), relative.id)


def journey_summary(session: DbSession, library: Library, enrolment: Enrolment) -> JourneySummary:
    """Return the relative's view of one enrolment, as `journey_summaries` builds it."""
    (summary,) = _summaries(session, library, enrolment.relative, _one_enrolment(), enrolment.id)
    return summary


def _summaries(
    session: DbSession, library: Library, relative: Relative, statement: Any, key: int
) -> list[JourneySummary]:
    rows = session.execute(statement, {"key": key}).all()
    enrolments: dict[int, _EnrolmentRow] = {}
    for row in rows:
        found = enrolments.setdefault(row.id, _EnrolmentRow(row))
        if row.checkin_instance_id is not None:
            found.checkins.setdefault(
                row.checkin_instance_id,
                OpenCheckin(row.checkin_instance_id, row.checkin_id, row.checkin_opened_at),
            )
        if row.consent_id is not None:
            found.consents[row.consent_id] = row.consent_granted
    releases: dict[int, list[Any]] = {id_: [] for id_ in enrolments}
    if enrolments:
        for release in session.execute(_release_rows(), {"enrolments": list(enrolments)}):
            releases[release.enrolment_id].append(release)
    return [
        _summary(library, found, releases[id_], relative.language)
        for id_, found in enrolments.items()
    ]


class _EnrolmentRow:
    """One enrolment's row, with the open check-ins and contact consents its joins repeat."""

    def __init__(self, row: Any) -> None:
        self.row = row
        self.checkins: dict[int, OpenCheckin] = {}
        self.consents: dict[int, bool] = {}  # consent id -> granted


# The two statements are built once: building them took as long as running them.
@cache
def _enrolments_of_relative() -> Any:
    return _enrolment_rows(Enrolment.relative_id == bindparam("key"))


@cache
def _one_enrolment() -> Any:
    return _enrolment_rows(Enrolment.id == bindparam("key"))


def _enrolment_rows(which: ColumnElement[bool]) -> Any:
    visits = select(PhaseVisitRow.phase).where(PhaseVisitRow.enrolment_id == Enrolment.id)
    return (
        select(
            Enrolment.id,
            Enrolment.guide_id,
            Enrolment.next_module_at,
            visits.order_by(PhaseVisitRow.started_at.desc(), PhaseVisitRow.id.desc())
            .limit(1)
            .scalar_subquery()
            .label("current_phase"),
            # Phase ids are slugs ([a-z0-9_-]): a space parts them.
            select(func.aggregate_strings(PhaseVisitRow.phase, " "))
            .where(PhaseVisitRow.enrolment_id == Enrolment.id)
            .scalar_subquery()
            .label("reached"),
            exists()
            .where(FollowupCall.enrolment_id == Enrolment.id, FollowupCall.outcome == OFFERED)
            .label("call_offered"),
            select(func.max(Alert.created_at))
            .where(waiting_contact_request(Enrolment.id))
            .scalar_subquery()
            .label("contact_asked_at"),
            Unit.name.label("unit_name"),
            Unit.contact.label("unit_contact"),
            StaffUser.active.label("contact_active"),
            StaffProfile.display_name.label("contact_name"),
            StaffProfile.role.label("contact_role"),
            StaffProfile.reach.label("contact_reach"),
            CheckinInstance.id.label("checkin_instance_id"),
            CheckinInstance.checkin_id,
            CheckinInstance.opened_at.label("checkin_opened_at"),
            Consent.id.label("consent_id"),
            Consent.granted.label("consent_granted"),
        )
        .join(Unit, Unit.id == Enrolment.unit_id)
        .outerjoin(ContactPerson, ContactPerson.enrolment_id == Enrolment.id)
        .outerjoin(StaffUser, StaffUser.id == ContactPerson.staff_user_id)
        .outerjoin(StaffProfile, StaffProfile.staff_user_id == ContactPerson.staff_user_id)
        .outerjoin(
            CheckinInstance,
            and_(CheckinInstance.enrolment_id == Enrolment.id, CheckinInstance.is_open),
        )
        .outerjoin(
            Consent,
            and_(
                Consent.relative_id == Enrolment.relative_id,
                Consent.purpose == ConsentPurpose.CONTACT,
            ),
        )
        .where(which)
        .order_by(
            Enrolment.activated_at.desc(),
            Enrolment.id.desc(),
            CheckinInstance.opened_at.desc(),
            CheckinInstance.id.desc(),
        )
    )


@cache
def _release_rows() -> Any:
    return (
        select(
            Release.enrolment_id,
            Release.module_id,
            Release.released_at,
            Release.read_at,
            ModuleVersion.content_hash,
            ModuleVersion.texts,
        )
        .join(ModuleVersion, ModuleVersion.id == Release.module_version_id)
        .where(Release.enrolment_id.in_(bindparam("enrolments", expanding=True)))
        .order_by(Release.released_at.desc(), Release.id.desc())
    )


def _summary(
    library: Library, found: _EnrolmentRow, releases: list[Any], language: str
) -> JourneySummary:
    row = found.row
    guide = library.guide(row.guide_id)
    released = []
    for release in releases:  # newest first
        text = texts_in(release.texts, language)
        current = guide.module(release.module_id) if guide.has_module(release.module_id) else None
        released.append(
            ModuleItem(
                id=release.module_id,
                title=text["title"],
                summary=text["summary"],
                released_at=release.released_at,
                read=release.read_at is not None,
                updated=current is not None and current.content_hash != release.content_hash,
            )
        )
    released_ids = {r.module_id for r in releases}
    reached = set((row.reached or "").split())
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
    consent = latest_answer([found.consents[id_] for id_ in sorted(found.consents)])
    named = (
        (row.contact_name, row.contact_role, row.contact_reach)
        if row.contact_name is not None and row.contact_active
        else None
    )
    phase_id = row.current_phase
    return JourneySummary(
        enrolment_id=row.id,
        language=language,
        unit_name=row.unit_name,
        guide=guide,
        phase_id=phase_id,
        phase_title=guide.phase(phase_id).title.get(language)
        if guide.has_phase(phase_id)
        else phase_id,
        released=released,
        library=_unique(library_items),
        open_checkins=list(found.checkins.values()),
        # Stored by the last plan (release pass, enrolment, answers): no planner per view.
        next_module_at=row.next_module_at,
        contact_person=contact_shown(row.unit_name, row.unit_contact, named, consent),
        call_offered=offers_call(row.call_offered, consent),
        contact_asked_at=row.contact_asked_at,
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
