"""An organisation's values for the content's `{{ local.* }}` placeholders, and units' overrides.

A value is plain text. The organisation sets one per key; a unit may override it for
the relatives whose card it issued. Every change is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from guide.content.model import Library, LocalFact, Module
from guide.content.render import PLACEHOLDER
from guide.errors import GuideError
from guide.models import LocalFactValue, Organisation, StaffUser, Unit
from guide.models.base import DbSession
from guide.services.audit import record_audit

MAX_VALUE = 2000


class LocalFactError(GuideError):
    """A local fact that cannot be set as asked."""

    @classmethod
    def unknown(cls, key: str) -> LocalFactError:
        return cls(
            "local_fact_unknown",
            f"Det finns ingen lokal uppgift '{key[:100]}'. Se listan över lokala uppgifter.",
            404,
        )

    @classmethod
    def too_long(cls) -> LocalFactError:
        return cls(
            "local_fact_too_long",
            f"Skriv högst {MAX_VALUE} tecken. Lägg längre texter på er webbplats och skriv adressen här.",
            field="value",
        )

    @classmethod
    def unit_unknown(cls, slug: str) -> LocalFactError:
        return cls(
            "unit_unknown", f"Din organisation har ingen enhet '{slug[:64]}'.", 404, field="unit"
        )


def local_values(
    session: DbSession, organisation_id: int, unit_id: int | None = None
) -> dict[str, str]:
    """Return key -> value for the facts filled in: the unit's override, else the organisation's."""
    query = select(LocalFactValue.key, LocalFactValue.value, LocalFactValue.unit_id).where(
        LocalFactValue.organisation_id == organisation_id,
        LocalFactValue.unit_id.is_(None)
        if unit_id is None
        else (LocalFactValue.unit_id.is_(None) | (LocalFactValue.unit_id == unit_id)),
    )
    values: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for key, value, row_unit in session.execute(query):
        if value and value.strip():
            (overrides if row_unit is not None else values)[key] = value
    return {**values, **overrides}


def _row(
    session: DbSession, organisation_id: int, unit_id: int | None, key: str
) -> LocalFactValue | None:
    return session.scalar(
        select(LocalFactValue).where(
            LocalFactValue.organisation_id == organisation_id,
            LocalFactValue.key == key,
            LocalFactValue.unit_id.is_(None)
            if unit_id is None
            else (LocalFactValue.unit_id == unit_id),
        )
    )


def set_local_fact(
    session: DbSession,
    library: Library,
    organisation: Organisation,
    key: str,
    value: str,
    now: datetime,
    changed_by: StaffUser,
    unit: Unit | None = None,
) -> LocalFactValue | None:
    """Set (or with an empty value clear) the organisation's or a unit's value; audit it.

    Returns the row, or None when the value was cleared. The caller commits.
    """
    if key not in library.local_facts:
        raise LocalFactError.unknown(key)
    text = value.replace("\r\n", "\n").strip()
    if len(text) > MAX_VALUE:
        raise LocalFactError.too_long()
    if unit is not None and unit.organisation_id != organisation.id:
        raise LocalFactError.unit_unknown(unit.slug)
    unit_id = unit.id if unit is not None else None
    row = _row(session, organisation.id, unit_id, key)
    if not text:
        if row is not None:
            _audit(session, changed_by, "local_fact_cleared", row, now)
            session.delete(row)
            session.flush()
        return None
    if row is None:
        row = LocalFactValue(
            organisation_id=organisation.id, unit_id=unit_id, key=key, value=text, updated_at=now
        )
        session.add(row)
    else:
        row.value = text
        row.updated_at = now
    session.flush()
    _audit(session, changed_by, "local_fact_set", row, now)
    return row


def _audit(
    session: DbSession, staff: StaffUser, action: str, row: LocalFactValue, now: datetime
) -> None:
    where = f"unit:{row.unit_id}" if row.unit_id is not None else f"org:{row.organisation_id}"
    record_audit(session, staff, action, "local_fact", row.id, now, f"{row.key} ({where})"[:300])


@dataclass(frozen=True)
class FactUse:
    guide_id: str
    module: Module


@dataclass(frozen=True)
class FactEntry:
    """One declared key as the admin page shows it."""

    fact: LocalFact
    value: str  # the organisation's own, or ""
    overrides: Mapping[int, str]  # unit id -> the unit's value
    uses: tuple[FactUse, ...]


@dataclass(frozen=True)
class FactGroup:
    guide_ids: tuple[str, ...]  # the guides whose modules use the keys; () for none
    entries: tuple[FactEntry, ...]


def fact_uses(library: Library) -> dict[str, list[FactUse]]:
    """Return key -> the modules (in any language) whose text uses it, guide by guide."""
    uses: dict[str, list[FactUse]] = {key: [] for key in library.local_facts}
    for guide in library.guides.values():
        for module in guide.modules:
            keys = {
                match.group(1)
                for text in module.texts.values()
                for match in PLACEHOLDER.finditer(text.body)
            }
            for key in sorted(keys):
                uses.setdefault(key, []).append(FactUse(guide.id, module))
    return uses


def fact_catalogue(session: DbSession, library: Library, organisation_id: int) -> list[FactGroup]:
    """Return every declared key, grouped by the guides that use it, with the values set."""
    own: dict[str, str] = {}
    overrides: dict[str, dict[int, str]] = {}
    rows = session.execute(
        select(LocalFactValue.key, LocalFactValue.unit_id, LocalFactValue.value).where(
            LocalFactValue.organisation_id == organisation_id
        )
    )
    for key, unit_id, value in rows:
        if unit_id is None:
            own[key] = value
        else:
            overrides.setdefault(key, {})[unit_id] = value
    uses = fact_uses(library)
    groups: dict[tuple[str, ...], list[FactEntry]] = {}
    for key, fact in library.local_facts.items():
        used = tuple(uses.get(key, []))
        guide_ids = tuple(sorted({use.guide_id for use in used}))
        entry = FactEntry(fact, own.get(key, ""), overrides.get(key, {}), used)
        groups.setdefault(guide_ids, []).append(entry)
    # Keys every guide uses first, then by guide, then the unused ones.
    order = sorted(groups, key=lambda ids: (not ids, -len(ids), ids))
    return [FactGroup(ids, tuple(groups[ids])) for ids in order]
