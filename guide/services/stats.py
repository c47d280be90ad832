"""An organisation's statistics for a period, with small numbers protected (SPEC §10).

The counts come from a few grouped queries; what may be published is decided by the
pure `guide.suppression`. Periods are whole calendar months (UTC), so that a count
can be followed month by month and the difference rule applied. Anything derived
from a relative's answers, needs, reading, phases or alerts counts only relatives
whose latest answer to the statistics consent is yes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, extract, func, select
from sqlalchemy.orm import aliased

from guide.content.model import Library
from guide.errors import N_, GuideError
from guide.models import (
    Alert,
    Card,
    CheckinInstance,
    Consent,
    ConsentPurpose,
    Enrolment,
    NeedTick,
    PhaseVisitRow,
    Release,
    StaffRole,
    StaffUser,
    Unit,
)
from guide.models.base import DbSession, utcnow
from guide.suppression import (
    Position,
    Shown,
    SuppressedTable,
    change,
    difference_unsafe,
    median_of,
    share,
    suppress_table,
)

ORK_VALUES = (1, 2, 3, 4, 5)
ALERT_SOURCES = ("rule", "crisis", "contact_request", "followup")
MAX_MONTHS = 36

Month = tuple[int, int]


class StatsError(GuideError):
    @classmethod
    def period_invalid(cls) -> StatsError:
        return cls(
            "period_invalid",
            "Skriv perioden som ÅÅÅÅ-MM (eller ÅÅÅÅ-MM-DD), med från före till.",
            field="from",
        )

    @classmethod
    def period_too_long(cls) -> StatsError:
        return cls(
            "period_too_long", f"Välj en period på högst {MAX_MONTHS} månader.", field="from"
        )

    @classmethod
    def forbidden(cls) -> StatsError:
        return cls("stats_forbidden", "Ditt konto kan inte se statistik.", 403)

    @classmethod
    def unit_unknown(cls) -> StatsError:
        return cls("unit_unknown", "Enheten finns inte bland dina enheter.", 404, field="unit")


@dataclass(frozen=True)
class Period:
    """Whole months from `first` to `last` (both included)."""

    first: Month
    last: Month

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date) -> Period:
        """Read 'ÅÅÅÅ-MM' or 'ÅÅÅÅ-MM-DD'; the default is the last twelve months."""
        last = _month_of(end) if end else (today.year, today.month)
        first = _month_of(start) if start else _add_months(last, -11)
        if first > last:
            raise StatsError.period_invalid()
        period = cls(first, last)
        if len(period.months) > MAX_MONTHS:
            raise StatsError.period_too_long()
        return period

    @property
    def months(self) -> list[Month]:
        found, month = [], self.first
        while month <= self.last:
            found.append(month)
            month = _add_months(month, 1)
        return found

    @property
    def starts(self) -> datetime:
        return datetime(self.first[0], self.first[1], 1, tzinfo=UTC)

    @property
    def ends(self) -> datetime:
        after = _add_months(self.last, 1)
        return datetime(after[0], after[1], 1, tzinfo=UTC)

    def previous(self) -> Period:
        length = len(self.months)
        return Period(_add_months(self.first, -length), _add_months(self.first, -1))

    def label(self) -> str:
        return f"{self.first[0]}-{self.first[1]:02d} – {self.last[0]}-{self.last[1]:02d}"


def _month_of(text: str) -> Month:
    try:
        parts = [int(p) for p in text.strip().split("-")[:2]]
        year, month = parts
    except ValueError:
        raise StatsError.period_invalid() from None
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise StatsError.period_invalid()
    return (year, month)


def _add_months(month: Month, count: int) -> Month:
    index = month[0] * 12 + (month[1] - 1) + count
    return (index // 12, index % 12 + 1)


@dataclass(frozen=True)
class Scope:
    """Whose numbers: an organisation, all its units or one."""

    organisation_id: int
    unit_id: int | None


def stats_scope(staff: StaffUser, unit_id: int | None, units: Sequence[Unit]) -> Scope:
    """Return the scope `staff` may see: unit staff their unit, admins any unit of their own."""
    if staff.organisation_id is None:
        raise StatsError.forbidden()
    if staff.role == StaffRole.STAFF:
        if staff.unit_id is None or (unit_id is not None and unit_id != staff.unit_id):
            raise StatsError.unit_unknown() if staff.unit_id else StatsError.forbidden()
        return Scope(staff.organisation_id, staff.unit_id)
    if not staff.has_role(StaffRole.ORG_ADMIN):
        raise StatsError.forbidden()
    if unit_id is not None and unit_id not in {unit.id for unit in units}:
        raise StatsError.unit_unknown()
    return Scope(staff.organisation_id, unit_id)


@dataclass(frozen=True)
class Table:
    """One published table: labels, the suppressed numbers, and what its columns mean."""

    id: str
    title: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    numbers: SuppressedTable
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, list[Shown], Shown | None]]:
        totals: Sequence[Shown | None] = self.numbers.row_totals or [None] * len(self.row_labels)
        return [
            (label, list(cells), total)
            for label, cells, total in zip(self.row_labels, self.numbers.cells, totals, strict=True)
        ]

    def json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": list(self.column_labels),
            "rows": [
                {
                    "label": label,
                    "values": [cell.json() for cell in cells],
                    **({"total": total.json()} if total is not None else {}),
                }
                for label, cells, total in self.rows()
            ],
            **(
                {"column_totals": [c.json() for c in self.numbers.column_totals]}
                if self.numbers.column_totals
                else {}
            ),
            **(
                {"total": self.numbers.grand_total.json()}
                if self.numbers.grand_total is not None
                else {}
            ),
            **self.extra,
        }


@dataclass(frozen=True)
class Headline:
    label: str
    current: Shown
    previous: Shown

    @property
    def change(self) -> str:
        return change(self.current, self.previous)


@dataclass(frozen=True)
class Statistics:
    period: Period
    scope: Scope
    tables: tuple[Table, ...]
    headlines: tuple[Headline, ...]
    activation_rate: float | None
    median_days_to_activation: float | None
    median_hours_to_contact: float | None

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)


# -- queries -------------------------------------------------------------------------


def consenting_relatives() -> Select[Any]:
    """Relatives whose latest answer to the statistics consent is yes.

    Written as "a yes with no later answer" (an anti-join), which PostgreSQL runs
    as one hash join; "the row whose id is the max per relative" took twice as long.
    """
    later = aliased(Consent)
    newer_answer = (
        select(later.id)
        .where(
            later.relative_id == Consent.relative_id,
            later.purpose == ConsentPurpose.STATISTICS.value,
            later.id > Consent.id,
        )
        .exists()
    )
    return select(Consent.relative_id).where(
        Consent.purpose == ConsentPurpose.STATISTICS.value,
        Consent.granted.is_(True),
        ~newer_answer,
    )


def _consenting_enrolments(scope: Scope) -> Select[Any]:
    query = select(Enrolment.id).where(
        Enrolment.organisation_id == scope.organisation_id,
        Enrolment.relative_id.in_(consenting_relatives()),
    )
    if scope.unit_id is not None:
        query = query.where(Enrolment.unit_id == scope.unit_id)
    return query


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.starts, column < period.ends)


def _month(column: Any) -> tuple[Any, Any]:
    return extract("year", column), extract("month", column)


def _series(rows: Iterable[Any], keys: Sequence[Any], period: Period) -> dict[Any, list[int]]:
    """Turn (key, year, month, count) rows into key -> the count of each month of the period."""
    index = {month: n for n, month in enumerate(period.months)}
    series: dict[Any, list[int]] = {key: [0] * len(index) for key in keys}
    for key, year, month, count in rows:
        slot = index.get((int(year), int(month)))
        if key in series and slot is not None:
            series[key][slot] += int(count)
    return series


def _monthly_by_position(
    series: Sequence[Sequence[list[int]]], row_totals: bool, column_totals: bool
) -> Iterable[tuple[Position, list[int]]]:
    """Yield each published position of a flow table with its count month by month."""

    def added(lists: Iterable[list[int]]) -> list[int]:
        return [sum(month) for month in zip(*lists, strict=True)]

    for i, row in enumerate(series):
        for j, monthly in enumerate(row):
            yield ("cell", i, j), monthly
    if not series:
        return
    if row_totals:
        for i, row in enumerate(series):
            yield ("row", i, 0), added(row)
    if column_totals:
        for j in range(len(series[0])):
            yield ("column", j, 0), added(row[j] for row in series)
    if row_totals or column_totals:
        yield ("grand", 0, 0), added(monthly for row in series for monthly in row)


def _flow_table(
    table_id: str,
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    series: Sequence[Sequence[list[int]]],  # row -> column -> monthly counts
    row_totals: bool,
    column_totals: bool,
    notes: Sequence[str] = (),
) -> Table:
    cells = [[sum(monthly) for monthly in row] for row in series]
    unsafe = frozenset(
        position
        for position, monthly in _monthly_by_position(series, row_totals, column_totals)
        if difference_unsafe(monthly)
    )
    numbers = suppress_table(cells or [[0] * len(column_labels)], row_totals, column_totals, unsafe)
    if not cells:
        row_labels = ("–",)
    return Table(table_id, title, tuple(row_labels), tuple(column_labels), numbers, tuple(notes))


def _cards(session: DbSession, scope: Scope, period: Period, units: Sequence[Unit]) -> Table:
    shown_units = [u for u in units if scope.unit_id in (None, u.id)]
    where = [Card.organisation_id == scope.organisation_id, _in(Card.created_at, period)]
    if scope.unit_id is not None:
        where.append(Card.unit_id == scope.unit_id)
    issued = session.execute(
        select(Card.unit_id, *_month(Card.created_at), func.count())
        .where(*where)
        .group_by(Card.unit_id, *_month(Card.created_at))
    )
    activated = session.execute(
        select(Card.unit_id, *_month(Card.created_at), func.count())
        .where(*where, Card.activated_at.is_not(None))
        .group_by(Card.unit_id, *_month(Card.created_at))
    )
    keys = [u.id for u in shown_units]
    issued_series = _series(issued, keys, period)
    activated_series = _series(activated, keys, period)
    return _flow_table(
        "cards",
        N_("Kort som delats ut under perioden"),
        [u.name for u in shown_units],
        [N_("Utdelade"), N_("Av dem aktiverade")],
        [[issued_series[k], activated_series[k]] for k in keys],
        row_totals=False,
        column_totals=True,
    )


def _days_between(session: DbSession, later: Any, earlier: Any) -> Any:
    """Return SQL for the days from `earlier` to `later`: the database subtracts, not Python."""
    if session.get_bind().dialect.name == "postgresql":
        return extract("epoch", later - earlier) / 86400
    return func.julianday(later) - func.julianday(earlier)


def _days_to_activation(session: DbSession, scope: Scope, period: Period) -> list[float]:
    query = select(_days_between(session, Card.activated_at, Card.created_at)).where(
        Card.organisation_id == scope.organisation_id,
        _in(Card.created_at, period),
        Card.activated_at.is_not(None),
    )
    if scope.unit_id is not None:
        query = query.where(Card.unit_id == scope.unit_id)
    return [round(float(days), 6) for days in session.scalars(query)]


def _phases(session: DbSession, scope: Scope, period: Period, library: Library) -> Table:
    latest = (
        select(PhaseVisitRow.enrolment_id, func.max(PhaseVisitRow.id).label("visit_id"))
        .where(PhaseVisitRow.started_at < period.ends)
        .group_by(PhaseVisitRow.enrolment_id)
        .subquery()
    )
    rows = session.execute(
        select(Enrolment.guide_id, PhaseVisitRow.phase, func.count())
        .join(latest, latest.c.enrolment_id == Enrolment.id)
        .join(PhaseVisitRow, PhaseVisitRow.id == latest.c.visit_id)
        .where(
            Enrolment.id.in_(_consenting_enrolments(scope)),
            Enrolment.status == "active",
            Enrolment.activated_at < period.ends,
        )
        .group_by(Enrolment.guide_id, PhaseVisitRow.phase)
    )
    counts = {(guide_id, phase): int(count) for guide_id, phase, count in rows}
    labels, cells = [], []
    for guide in library.guides.values():
        for phase in guide.phases:
            labels.append(f"{guide.title.get('sv')}: {phase.title.get('sv')}")
            cells.append([counts.get((guide.id, phase.id), 0)])
    numbers = suppress_table(cells or [[0]], row_totals=False, column_totals=True)
    return Table(
        "phases",
        N_("Aktiva inskrivningar per guide och fas vid periodens slut"),
        tuple(labels or ["–"]),
        (N_("Inskrivningar"),),
        numbers,
        (N_("Bara anhöriga som samtyckt till statistik räknas."),),
    )


def _modules(session: DbSession, scope: Scope, period: Period, library: Library) -> Table:
    base = [Enrolment.organisation_id == scope.organisation_id]
    if scope.unit_id is not None:
        base.append(Enrolment.unit_id == scope.unit_id)
    released = session.execute(
        select(Enrolment.guide_id, *_month(Release.released_at), func.count())
        .join(Enrolment, Enrolment.id == Release.enrolment_id)
        .where(*base, _in(Release.released_at, period))
        .group_by(Enrolment.guide_id, *_month(Release.released_at))
    )
    opened = session.execute(
        select(Enrolment.guide_id, *_month(Release.read_at), func.count())
        .join(Enrolment, Enrolment.id == Release.enrolment_id)
        .where(
            *base,
            _in(Release.read_at, period),
            Enrolment.id.in_(_consenting_enrolments(scope)),
        )
        .group_by(Enrolment.guide_id, *_month(Release.read_at))
    )
    keys = list(library.guides)
    released_series = _series(released, keys, period)
    opened_series = _series(opened, keys, period)
    return _flow_table(
        "modules",
        N_("Avsnitt som skickats ut och öppnats"),
        [library.guides[k].title.get("sv") for k in keys],
        [N_("Utskickade"), N_("Öppnade")],
        [[released_series[k], opened_series[k]] for k in keys],
        row_totals=False,
        column_totals=True,
        notes=(N_("Öppnade räknas bara för anhöriga som samtyckt till statistik."),),
    )


def _ork(session: DbSession, scope: Scope, period: Period) -> Table:
    ork = CheckinInstance.answers["ork"].as_integer()
    rows = session.execute(
        select(*_month(CheckinInstance.answered_at), ork, func.count())
        .where(
            CheckinInstance.enrolment_id.in_(_consenting_enrolments(scope)),
            _in(CheckinInstance.answered_at, period),
            ork.in_(ORK_VALUES),
        )
        .group_by(*_month(CheckinInstance.answered_at), ork)
    )
    months = period.months
    index = {month: n for n, month in enumerate(months)}
    cells = [[0] * len(ORK_VALUES) for _ in months]
    for year, month, value, count in rows:
        slot = index.get((int(year), int(month)))
        if slot is not None:
            cells[slot][int(value) - 1] += int(count)
    numbers = suppress_table(cells, row_totals=True, column_totals=True)
    return Table(
        "ork",
        N_("Svar på frågan om ork, per månad (1 = ingen ork, 5 = god ork)"),
        tuple(f"{y}-{m:02d}" for y, m in months),
        tuple(str(v) for v in ORK_VALUES),
        numbers,
        (N_("Bara anhöriga som samtyckt till statistik räknas."),),
    )


def _needs(session: DbSession, scope: Scope, period: Period, library: Library) -> Table:
    rows = session.execute(
        select(
            Enrolment.guide_id,
            NeedTick.module_id,
            NeedTick.need_id,
            *_month(NeedTick.ticked_at),
            func.count(),
        )
        .join(Enrolment, Enrolment.id == NeedTick.enrolment_id)
        .where(
            NeedTick.enrolment_id.in_(_consenting_enrolments(scope)),
            _in(NeedTick.ticked_at, period),
        )
        .group_by(
            Enrolment.guide_id, NeedTick.module_id, NeedTick.need_id, *_month(NeedTick.ticked_at)
        )
    )
    keyed = [((g, m, n), year, month, count) for g, m, n, year, month, count in rows]
    keys = sorted({key for key, *_ in keyed})
    series = _series(keyed, keys, period)
    labels = []
    for guide_id, module_id, need_id in keys:
        guide = library.guides.get(guide_id)
        text = need_id
        title = module_id
        if guide is not None and guide.has_module(module_id):
            module = guide.module(module_id)
            title = module.original.title
            text = next((n.text.get("sv") for n in module.needs if n.id == need_id), need_id)
        labels.append(f"{title}: {text}")
    return _flow_table(
        "needs",
        N_("Behov som anhöriga kryssat i efter ett avsnitt"),
        labels,
        [N_("Antal")],
        [[series[k]] for k in keys],
        row_totals=False,
        column_totals=True,
        notes=(N_("Bara anhöriga som samtyckt till statistik räknas."),),
    )


def _alert_query(scope: Scope) -> list[ColumnElement[bool]]:
    where = [
        Alert.organisation_id == scope.organisation_id,
        Alert.enrolment_id.in_(_consenting_enrolments(scope)),
    ]
    if scope.unit_id is not None:
        where.append(Alert.unit_id == scope.unit_id)
    return where


def _alerts(session: DbSession, scope: Scope, period: Period) -> Table:
    rows = session.execute(
        select(Alert.source, *_month(Alert.created_at), func.count())
        .where(*_alert_query(scope), _in(Alert.created_at, period))
        .group_by(Alert.source, *_month(Alert.created_at))
    )
    series = _series(rows, ALERT_SOURCES, period)
    names = {
        "rule": N_("Signal från en kontrollfråga"),
        "crisis": N_("Brådskande signal"),
        "contact_request": N_("Önskemål om kontakt"),
        "followup": N_("Uppföljningssamtal enligt guiden"),
    }
    return _flow_table(
        "alerts",
        N_("Ärenden i uppföljningskön"),
        [names[s] for s in ALERT_SOURCES],
        [N_("Ärenden")],
        [[series[s]] for s in ALERT_SOURCES],
        row_totals=False,
        column_totals=True,
        notes=(N_("Bara anhöriga som samtyckt till statistik räknas."),),
    )


def _contact_targets(
    session: DbSession, scope: Scope, period: Period, units: Sequence[Unit], now: datetime
) -> Table:
    """Per unit: cases whose target has come (contacted or not), and those contacted in time.

    A case counts once its target is reached or passed; the share within target and the
    median time to first contact are shown only over five cases or more (issue #18).
    """
    index = {month: n for n, month in enumerate(period.months)}
    names = {unit.id: unit.name for unit in units}
    shown = [unit.id for unit in units if scope.unit_id in (None, unit.id)]
    decided = {unit_id: [0] * len(index) for unit_id in shown}
    within = {unit_id: [0] * len(index) for unit_id in shown}
    waits: dict[int, list[float]] = {unit_id: [] for unit_id in shown}
    query = select(
        Alert.unit_id, Alert.created_at, Alert.due_at, Alert.target_at, Alert.first_contact_at
    ).where(*_alert_query(scope), _in(Alert.created_at, period))
    for unit_id, created, due, target, contacted in session.execute(query):
        slot = index.get((created.year, created.month))
        if unit_id not in decided or slot is None:
            continue
        if contacted is not None:
            waits[unit_id].append((contacted - (due or created)).total_seconds() / 3600)
        if target is None or (contacted is None and now <= target):
            continue
        decided[unit_id][slot] += 1
        within[unit_id][slot] += contacted is not None and contacted <= target
    table = _flow_table(
        "contact_targets",
        N_("Kontakt inom målet"),
        [names[u] for u in shown],
        [N_("Ärenden vars mål har nåtts"), N_("Kontakt inom målet")],
        [[decided[u], within[u]] for u in shown],
        row_totals=False,
        column_totals=True,
    )
    shares: dict[str, int | None] = {}
    medians: dict[str, float | None] = {}
    notes = [N_("Bara anhöriga som samtyckt till statistik räknas.")]
    for (label, cells, _total), unit_id in zip(table.rows(), shown, strict=False):
        rate = share(cells[1], cells[0])
        shares[label] = round(rate * 100) if rate is not None else None
        hours = median_of([max(w, 0.0) for w in waits[unit_id]])
        medians[label] = round(hours, 1) if hours is not None else None
        if rate is not None and hours is not None:
            note = N_(
                "%(unit)s: %(share)s %% inom målet, median %(hours)s timmar till första kontakt.",
                unit=label,
                share=shares[label],
                hours=medians[label],
            )
        elif rate is not None:
            note = N_(
                "%(unit)s: %(share)s %% inom målet; mediantiden visas bara över minst fem ärenden.",
                unit=label,
                share=shares[label],
            )
        else:
            note = N_(
                "%(unit)s: andel och mediantid visas bara över minst fem ärenden.", unit=label
            )
        notes.append(note)
    return Table(
        table.id,
        table.title,
        table.row_labels,
        table.column_labels,
        table.numbers,
        tuple(notes),
        {"share_within_target_percent": shares, "median_hours_to_first_contact": medians},
    )


def _hours_to_contact(session: DbSession, scope: Scope, period: Period) -> list[float]:
    query = select(_days_between(session, Alert.first_contact_at, Alert.created_at) * 24).where(
        *_alert_query(scope),
        _in(Alert.created_at, period),
        Alert.first_contact_at.is_not(None),
    )
    return [round(float(days), 6) for days in session.scalars(query)]


def compute_statistics(
    session: DbSession,
    library: Library,
    scope: Scope,
    period: Period,
    units: Sequence[Unit],
    now: datetime | None = None,
) -> Statistics:
    """Return every table of the statistics page for the scope and period, suppressed."""
    now = now or utcnow()
    cards = _cards(session, scope, period, units)
    modules = _modules(session, scope, period, library)
    alerts = _alerts(session, scope, period)
    tables = (
        cards,
        _phases(session, scope, period, library),
        modules,
        _ork(session, scope, period),
        _needs(session, scope, period, library),
        alerts,
        _contact_targets(session, scope, period, units, now),
    )
    previous = period.previous()
    before_cards = _cards(session, scope, previous, units)
    before_modules = _modules(session, scope, previous, library)
    before_alerts = _alerts(session, scope, previous)
    headlines = (
        _headline(N_("Utdelade kort"), cards, before_cards, 0),
        _headline(N_("Aktiverade kort"), cards, before_cards, 1),
        _headline(N_("Utskickade avsnitt"), modules, before_modules, 0),
        _headline(N_("Ärenden i uppföljningskön"), alerts, before_alerts, 0),
    )
    rate = share(cards.numbers.column_totals[1], cards.numbers.column_totals[0])
    return Statistics(
        period=period,
        scope=scope,
        tables=tables,
        headlines=headlines,
        activation_rate=float(rate) if rate is not None else None,
        median_days_to_activation=median_of(_days_to_activation(session, scope, period)),
        median_hours_to_contact=median_of(_hours_to_contact(session, scope, period)),
    )


def _headline(label: str, table: Table, before: Table, column: int) -> Headline:
    """Set a column's total in this period beside the same total in the one before."""
    return Headline(
        label, table.numbers.column_totals[column], before.numbers.column_totals[column]
    )
