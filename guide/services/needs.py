"""'Ditt behov': the needs a relative ticks after reading a module (SPEC §8).

A tick is kept once per enrolment, module and need; ticking again changes nothing.
The ticks feed the organisation's statistics and, when the relative asks to be
contacted, what staff see in the follow-up queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from guide.content.model import Guide, Module
from guide.errors import N_, GuideError
from guide.models import Enrolment, NeedTick
from guide.models.base import DbSession
from guide.services.journey import record_event


class NeedError(GuideError):
    """Needs that cannot be ticked, with a sentence that says what to do."""

    @classmethod
    def module_unknown(cls, module_id: str) -> NeedError:
        return cls(
            "module_unknown",
            N_("Avsnittet '%(module)s' finns inte bland dina avsnitt.", module=module_id),
            404,
        )

    @classmethod
    def need_unknown(cls, need_id: str) -> NeedError:
        return cls(
            "need_unknown",
            N_(
                "Avsnittet har inget behov '%(need)s'. Välj bland behoven under avsnittet.",
                need=need_id,
            ),
        )


def readable_module(guide: Guide, enrolment: Enrolment, module_id: str) -> Module:
    """Return a module the relative can read (released, or in a phase reached), else raise."""
    if not guide.has_module(module_id):
        raise NeedError.module_unknown(module_id)
    module = guide.module(module_id)
    released = any(r.module_id == module_id for r in enrolment.releases)
    reached = {visit.phase for visit in enrolment.phase_visits}
    if not released and (module.release.on_demand or not reached.intersection(module.phases)):
        raise NeedError.module_unknown(module_id)
    return module


def tick_needs(
    session: DbSession,
    guide: Guide,
    enrolment: Enrolment,
    module_id: str,
    need_ids: Iterable[str],
    now: datetime,
) -> list[str]:
    """Tick needs of a module for the enrolment; return the ids ticked now for the first time."""
    module = readable_module(guide, enrolment, module_id)
    known = {need.id for need in module.needs}
    wanted = list(dict.fromkeys(str(need_id) for need_id in need_ids))
    for need_id in wanted:
        if need_id not in known:
            raise NeedError.need_unknown(need_id)
    before = set(ticked_needs(session, enrolment, module_id))
    new = [need_id for need_id in wanted if need_id not in before]
    for need_id in new:
        _insert_once(session, enrolment.id, module_id, need_id, now)
    if new:
        record_event(session, enrolment, "needs_ticked", now, module=module_id, needs=new)
    return new


def need_text(guide: Guide, module_id: str, need_id: str, language: str) -> str:
    """Return what a need says, in `language`; a need removed from the content shows its id."""
    if guide.has_module(module_id):
        for need in guide.module(module_id).needs:
            if need.id == need_id:
                return need.text.get(language, guide.fallback_language)
    return need_id


def ticked_needs(session: DbSession, enrolment: Enrolment, module_id: str) -> list[str]:
    """Return the ids of the needs the enrolment has ticked for a module, oldest first."""
    return list(
        session.scalars(
            select(NeedTick.need_id)
            .where(NeedTick.enrolment_id == enrolment.id, NeedTick.module_id == module_id)
            .order_by(NeedTick.id)
        )
    )


def _insert_once(
    session: DbSession, enrolment_id: int, module_id: str, need_id: str, now: datetime
) -> None:
    # Two submits at once (a double click) must neither fail nor count twice; the unique
    # key decides, and the database skips the second row instead of raising.
    values = {
        "enrolment_id": enrolment_id,
        "module_id": module_id,
        "need_id": need_id,
        "ticked_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(NeedTick).values(**values).on_conflict_do_nothing())
