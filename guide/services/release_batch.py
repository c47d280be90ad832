"""The release pass for a whole batch at once, on PostgreSQL (SPEC §5; issue #16).

`advance_enrolment` (guide/services/journey.py) carries out one enrolment's plan with
the ORM: about six statements each. Here a claimed batch (about a thousand) is read in
four statements, each enrolment is planned in memory with its guide compiled once
per pass, and what the plans say is written with one multi-row statement per table
(`INSERT ... SELECT FROM unnest(...)`, one `UPDATE ... FROM unnest(...)` for the
enrolments). The rows written are exactly the ones `advance_enrolment` writes, in the
same order per enrolment; tests/test_release_batch.py proves it over random
populations.

The writer consumes the planner's decisions generically: it knows the `Plan` fields in
`HANDLED_PLAN_FIELDS`. An enrolment whose plan says anything else (a kind of effect
added later), and every enrolment of a batch in which something fails, goes through
`advance_enrolment` instead, which stays the reference.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import JSON, ColumnElement, Text, cast, select, text

from guide.content.indexed import IndexedGuide, indexed
from guide.content.model import Library
from guide.models import Enrolment, ModuleVersion, Relative
from guide.models.base import DbSession
from guide.services.journey import published_version, state_of
from scheduler.followups import earliest, plan_followups
from scheduler.planner import EnrolmentState, Plan, apply_plan, plan

# The Plan fields this writer carries out. A plan with any other field set (not empty,
# not None, not False) goes to `advance_enrolment`.
HANDLED_PLAN_FIELDS = frozenset(
    {"phase_changes", "releases", "checkins", "next_due_at", "next_module_at"}
)


def handles(decided: Plan) -> bool:
    """Return whether the set-based writer can carry out `decided` by itself."""
    return all(
        f.name in HANDLED_PLAN_FIELDS or not getattr(decided, f.name) for f in fields(decided)
    )


class BatchConflict(Exception):
    """A row the plans wanted to write exists already: the per-enrolment path decides."""


# Plans remembered per pass at most; a pass over more distinct states starts afresh.
MEMO_SIZE = 10_000
T = TypeVar("T")


def remembered(table: dict[Any, T], key: Any, compute: Callable[[], T]) -> T:
    """Return `table[key]`, computed and kept first if new; a full table starts afresh."""
    if key in table:
        return table[key]
    if len(table) >= MEMO_SIZE:
        table.clear()
    value = table[key] = compute()
    return value


@dataclass
class CompiledLibrary:
    """What a pass looks up again and again: indexed guides, published version ids, plans.

    Plans are remembered by everything they are computed from: the guide, `now` and the
    enrolment's stored state exactly as read (its JSON columns as the database's text,
    so `true` and `1` are different keys). Two enrolments with the same key have the
    same `EnrolmentState`, so the planner, which is pure, decides the same for both;
    a cohort that activated together, or caught up together after downtime, is
    planned once.
    """

    library: Library
    guides: dict[str, IndexedGuide] = field(default_factory=dict)
    versions: dict[tuple[str, str, str], int] = field(default_factory=dict)
    loaded: set[str] = field(default_factory=set)  # guides whose versions are read
    plans: dict[tuple[Any, ...], tuple[EnrolmentState, Plan]] = field(default_factory=dict)
    batch_plans: dict[tuple[Any, ...], tuple[EnrolmentState, Plan | None]] = field(
        default_factory=dict
    )
    json_texts: dict[str, Any] = field(default_factory=dict)
    memoise: bool = True

    def decision(
        self, claimed: _Claimed, now: datetime, key: tuple[Any, ...] | None = None
    ) -> tuple[EnrolmentState, Plan]:
        """Return the state and plan of a claimed enrolment at `now` (remembered)."""

        def decide() -> tuple[EnrolmentState, Plan]:
            state = state_from(claimed, self._json)
            return state, plan(self.guide(claimed.row.guide_id), state, now)

        if not self.memoise:
            return decide()
        return remembered(self.plans, memo_key(claimed, now) if key is None else key, decide)

    def batch_decision(
        self, claimed: _Claimed, now: datetime
    ) -> tuple[EnrolmentState, Plan | None]:
        """Return the state and the plan this writer carries out, None if it cannot.

        Remembered like `decision`, with the follow-up calls already handled in the key:
        they are all the follow-up step reads beyond the state.
        """
        key = memo_key(claimed, now)

        def decide() -> tuple[EnrolmentState, Plan | None]:
            state, decided = self.decision(claimed, now, key)
            guide = self.guide(claimed.row.guide_id)
            return state, writer_plan(guide, state, decided, claimed.calls, now)

        if not self.memoise:
            return decide()
        return remembered(self.batch_plans, (key, claimed.calls), decide)

    def _json(self, raw: str) -> Any:
        return remembered(self.json_texts, raw, lambda: json.loads(raw))

    def guide(self, guide_id: str) -> IndexedGuide:
        compiled = self.guides.get(guide_id)
        if compiled is None:
            compiled = self.guides[guide_id] = indexed(self.library.guide(guide_id))
        return compiled

    def version_id(self, session: DbSession, guide_id: str, module_id: str) -> int:
        """Return the id of the module's stored version as it is now (stored if new)."""
        module = self.guide(guide_id).module(module_id)
        key = (guide_id, module_id, module.content_hash)
        if key not in self.versions and guide_id not in self.loaded:
            self.loaded.add(guide_id)
            for vid, mid, digest in session.execute(
                select(ModuleVersion.id, ModuleVersion.module_id, ModuleVersion.content_hash).where(
                    ModuleVersion.guide_id == guide_id
                )
            ):
                self.versions[(guide_id, mid, digest)] = vid
        if key not in self.versions:
            self.versions[key] = published_version(session, module).id
        return self.versions[key]

    def forget_versions(self) -> None:
        """After a rollback: versions stored in that transaction are gone again."""
        self.versions.clear()
        self.loaded.clear()


@dataclass
class BatchResult:
    """What one batch did, and the claimed ids it left for the per-enrolment path."""

    enrolments: int = 0
    releases: int = 0
    checkins: int = 0
    notices: int = 0
    fallback: list[int] = field(default_factory=list)  # plans with effects not handled here
    unplanned: list[int] = field(default_factory=list)  # planning failed: one at a time


@dataclass
class _Claimed:
    row: Any  # a claimed row: every enrolment column (JSON as text), the relative's address
    visits: list[tuple[str, datetime]]
    released: set[str]
    calls: frozenset[str] = frozenset()  # the guide's follow-up calls already handled
    state: EnrolmentState | None = None
    decided: Plan | None = None


# Enrolment columns the planner's state is known not to depend on: identities, and
# what a plan writes. Every other column, a new one too, is part of the memo key.
NOT_STATE = frozenset(
    {
        "id",
        "relative_id",
        "card_id",
        "organisation_id",
        "unit_id",
        "next_due_at",
        "next_module_at",
        "notified_phase",
        "retention_warned_at",  # the retention pass's, not the journey's
        "retention_kept_at",
    }
)
ENROLMENT_COLUMNS = tuple(column.name for column in Enrolment.__table__.columns)
JSON_COLUMNS = frozenset(
    column.name for column in Enrolment.__table__.columns if isinstance(column.type, JSON)
)
STATE_COLUMNS = tuple(name for name in ENROLMENT_COLUMNS if name not in NOT_STATE)


def memo_key(claimed: _Claimed, now: datetime) -> tuple[Any, ...]:
    """Everything `state_of` can read, and `now`: equal keys, equal states, equal plans."""
    row = claimed.row
    return (
        now,
        tuple(getattr(row, name) for name in STATE_COLUMNS),
        tuple(claimed.visits),
        frozenset(claimed.released),
    )


def claim_batch(
    session: DbSession, now: datetime, size: int, due: Callable[[datetime], ColumnElement[bool]]
) -> list[_Claimed]:
    """Lock the next `size` due enrolments (SKIP LOCKED) and read their state: four statements.

    Every enrolment column comes along (JSON as the database's text: the plan memo's
    key, and each distinct value parsed once), and the relative's address.
    """
    e = Enrolment.__table__.c
    r = Relative.__table__.c
    columns = [
        cast(e[name], Text).label(name) if name in JSON_COLUMNS else e[name]
        for name in ENROLMENT_COLUMNS
    ]
    rows = session.execute(
        select(
            *columns,
            r.email.label("relative_email"),
            r.deleted_at.label("relative_deleted_at"),
            r.email_paused_at.label("relative_email_paused_at"),
        )
        .select_from(Enrolment.__table__.join(Relative.__table__, e.relative_id == r.id))
        .where(due(now))
        .order_by(e.next_due_at, e.id)
        .limit(size)
        .with_for_update(skip_locked=True, of=Enrolment.__table__)
    ).all()  # one fetch: iterating a result fetches a row at a time
    if not rows:
        return []
    ids = [row.id for row in rows]
    visits: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for enrolment_id, phase, started_at in session.execute(
        text(
            "SELECT enrolment_id, phase, started_at FROM phase_visit"
            " WHERE enrolment_id = ANY(:ids) ORDER BY enrolment_id, started_at, id"
        ),
        {"ids": ids},
    ).all():
        visits[enrolment_id].append((phase, started_at))
    released: dict[int, set[str]] = defaultdict(set)
    for enrolment_id, module_id in session.execute(
        text("SELECT enrolment_id, module_id FROM release WHERE enrolment_id = ANY(:ids)"),
        {"ids": ids},
    ).all():
        released[enrolment_id].add(module_id)
    calls: dict[int, set[str]] = defaultdict(set)
    for enrolment_id, followup_id in session.execute(
        text("SELECT enrolment_id, followup_id FROM followup_call WHERE enrolment_id = ANY(:ids)"),
        {"ids": ids},
    ).all():
        calls[enrolment_id].add(followup_id)
    return [
        _Claimed(row, visits[row.id], released[row.id], frozenset(calls[row.id])) for row in rows
    ]


class _EnrolmentView:
    """A claimed row as `state_of` reads an Enrolment: its columns, phase visits, releases.

    Reading anything else (a relationship `state_of` may come to use) raises, so that
    enrolment goes through the per-enrolment path instead of being planned wrongly.
    """

    def __init__(self, claimed: _Claimed, parse: Callable[[str], Any]) -> None:
        self._claimed = claimed
        self._parse = parse

    def __getattr__(self, name: str) -> Any:
        claimed = self._claimed
        if name == "phase_visits":
            return [SimpleNamespace(phase=p, started_at=s) for p, s in claimed.visits]
        if name == "releases":
            return [SimpleNamespace(module_id=m) for m in sorted(claimed.released)]
        if name not in ENROLMENT_COLUMNS:
            raise AttributeError(f"the set-based release pass does not read Enrolment.{name}")
        value = getattr(claimed.row, name)
        if name in JSON_COLUMNS and value is not None:
            return self._parse(value)
        return value


def state_from(claimed: _Claimed, parse: Callable[[str], Any] = json.loads) -> EnrolmentState:
    """The planner's view of a claimed row: `state_of` itself, on the row."""
    return state_of(_EnrolmentView(claimed, parse))  # type: ignore[arg-type]


def advance_batch(
    session: DbSession,
    compiled: CompiledLibrary,
    claimed: Sequence[_Claimed],
    now: datetime,
) -> BatchResult:
    """Plan every claimed enrolment and write what the plans say, a statement per table.

    Raises on a failure while writing (the caller rolls back and goes one at a time).
    Enrolments left untouched are named: `fallback` (a plan this writer does not
    handle: the caller advances them in this transaction) and `unplanned` (planning
    failed: the caller tries each alone, after the batch, and logs it).
    """
    result = BatchResult()
    mine: list[_Claimed] = []
    for item in claimed:
        try:
            item.state, item.decided = compiled.batch_decision(item, now)
        except Exception:
            result.unplanned.append(item.row.id)
            continue
        if item.decided is None:
            result.fallback.append(item.row.id)
        else:
            mine.append(item)
    if not mine:
        return result
    writer = _Writer(session, compiled, now)
    writer.write(mine)
    result.enrolments = len(mine)
    result.releases = writer.releases
    result.checkins = writer.checkins
    result.notices = writer.notices
    return result


def writer_plan(
    guide: IndexedGuide, state: EnrolmentState, decided: Plan, calls: frozenset[str], now: datetime
) -> Plan | None:
    """Return `decided` as the set-based writer carries it out, or None if it cannot.

    It cannot when the plan has an effect it does not know (`handles`), or when one of
    the guide's follow-up calls is due: a due call becomes a case through the
    per-enrolment path (`raise_due_followups`). Otherwise the enrolment must be looked
    at again when its next call falls due, as `advance_enrolment` records it.
    """
    if not handles(decided):
        return None
    if not guide.followups:
        return decided
    if plan_followups(guide, state, calls, now).due:
        return None
    after = plan_followups(guide, apply_plan(state, decided, now), calls, now)
    upcoming = after.due[0].due_at if after.due else after.next_at
    return replace(decided, next_due_at=earliest(decided.next_due_at, upcoming))


def may_be_notified(row: Any) -> bool:
    """The rule of `queue_message` for a notice: an address, not deleted, mail not paused."""
    return (
        row.relative_email is not None
        and row.relative_deleted_at is None
        and row.relative_email_paused_at is None
    )


def pg_array(values: Iterable[Any]) -> str:
    """Write a PostgreSQL array literal ('{1,"a b",NULL}') to CAST in SQL.

    One text parameter per column instead of a list: psycopg escapes each element of a
    list with a regular expression, which cost more than the statement it sends.
    """
    return "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value: Any) -> str:
    if value is None:
        return "NULL"
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime or kind is date:
        moment: date = value
        return moment.isoformat()  # digits, '-', ':', '.', '+' and 'T': nothing to quote
    raw = str(value)
    if "\\" in raw or '"' in raw:
        raw = raw.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + raw + '"'


class _Writer:
    def __init__(self, session: DbSession, compiled: CompiledLibrary, now: datetime) -> None:
        self.session = session
        self.compiled = compiled
        self.now = now
        self.releases = 0
        self.checkins = 0
        self.notices = 0

    def write(self, batch: list[_Claimed]) -> None:
        now = self.now
        expired = self._expire_older_checkins(batch)
        release_ids = self._insert_releases(batch)
        checkin_ids = self._insert_checkins(batch)

        events: list[tuple[int, str, dict[str, Any]]] = []
        visits: list[tuple[int, str, datetime]] = []
        notices: list[tuple[int, _Claimed, str, dict[str, Any]]] = []
        updates: list[tuple[Any, ...]] = []
        for item in batch:
            row, decided, state = item.row, item.decided, item.state
            assert decided is not None and state is not None
            eid = row.id
            # Events in the order advance_enrolment records them.
            for visit in decided.phase_changes:
                visits.append((eid, visit.phase, visit.started_at))
                events.append((eid, "phase_changed", {"phase": visit.phase, "reason": "duration"}))
            for module in decided.releases:
                events.append((eid, "released", {"module": module.module_id, "reason": "schedule"}))
            opened = dict(json.loads(row.checkins_opened or "{}") or {})  # stored text kept
            for checkin in decided.checkins:
                for _ in range(expired.get((eid, checkin.checkin_id), 0)):
                    events.append((eid, "checkin_expired", {"checkin": checkin.checkin_id}))
                opened[checkin.checkin_id] = checkin.due_at.isoformat()
                events.append((eid, "checkin_opened", {"checkin": checkin.checkin_id}))

            last_email_on: date | None = row.last_email_on
            notified_phase: str | None = row.notified_phase
            if decided.sends_email:
                last_email_on = state.local_date(now)
                phase = (decided.phase_changes or state.phase_history)[-1].phase
                if may_be_notified(row):
                    releases = [release_ids[(eid, m.module_id)] for m in decided.releases]
                    checkins = [checkin_ids[(eid, c.checkin_id)] for c in decided.checkins]
                    parts = [f"r{i}" for i in releases] + [f"c{i}" for i in checkins]
                    payload: dict[str, Any] = {"releases": releases, "checkins": checkins}
                    if row.notified_phase is not None and row.notified_phase != phase:
                        payload["new_phase"] = phase
                    notices.append((eid, item, f"notice:{eid}:{'-'.join(parts)}", payload))
                    notified_phase = phase
            updates.append(
                (
                    eid,
                    decided.next_due_at,
                    decided.next_module_at,
                    last_email_on,
                    notified_phase,
                    json.dumps(opened),
                )
            )

        self._insert_events(events)
        self._insert_visits(visits)
        self._insert_notices(notices)
        self._update_enrolments(updates)

    def _run(self, sql: str, parameters: dict[str, Any]) -> Any:
        """Execute `sql` with each list parameter sent as one array literal."""
        return self.session.execute(
            text(sql),
            {k: pg_array(v) if isinstance(v, list) else v for k, v in parameters.items()},
        )

    def _expire_older_checkins(self, batch: list[_Claimed]) -> dict[tuple[int, str], int]:
        """Expire every open occurrence of each check-in about to open; count them."""
        pairs = [
            (item.row.id, due.checkin_id)
            for item in batch
            for due in item.decided.checkins  # type: ignore[union-attr]
        ]
        if not pairs:
            return {}
        rows = self._run(
            (
                "UPDATE checkin_instance AS c SET expired_at = :now"
                " FROM unnest(CAST(:e AS integer[]), CAST(:k AS text[])) AS t(e, k)"
                " WHERE c.enrolment_id = t.e AND c.checkin_id = t.k"
                " AND c.answered_at IS NULL AND c.expired_at IS NULL"
                " RETURNING c.enrolment_id, c.checkin_id"
            ),
            {"now": self.now, "e": [p[0] for p in pairs], "k": [p[1] for p in pairs]},
        )
        counts: dict[tuple[int, str], int] = defaultdict(int)
        for enrolment_id, checkin_id in rows:
            counts[(enrolment_id, checkin_id)] += 1
        return counts

    def _insert_releases(self, batch: list[_Claimed]) -> dict[tuple[int, str], int]:
        planned = [
            (
                item.row.id,
                due.module_id,
                self.compiled.version_id(self.session, item.row.guide_id, due.module_id),
                due.due_at,
            )
            for item in batch
            for due in item.decided.releases  # type: ignore[union-attr]
        ]
        if not planned:
            return {}
        rows = self._run(
            (
                "INSERT INTO release (enrolment_id, module_id, module_version_id, due_at,"
                " released_at, reason)"
                " SELECT e, m, v, d, :now, 'schedule' FROM unnest(CAST(:e AS integer[]),"
                " CAST(:m AS text[]), CAST(:v AS integer[]), CAST(:d AS timestamptz[]))"
                " WITH ORDINALITY AS t(e, m, v, d, n) ORDER BY n"
                " ON CONFLICT (enrolment_id, module_id) DO NOTHING"
                " RETURNING id, enrolment_id, module_id"
            ),
            {
                "now": self.now,
                "e": [p[0] for p in planned],
                "m": [p[1] for p in planned],
                "v": [p[2] for p in planned],
                "d": [p[3] for p in planned],
            },
        )
        ids = {(eid, mid): rid for rid, eid, mid in rows}
        if len(ids) != len(planned):
            raise BatchConflict("a planned release exists already")
        self.releases = len(ids)
        return ids

    def _insert_checkins(self, batch: list[_Claimed]) -> dict[tuple[int, str], int]:
        planned = [
            (item.row.id, due.checkin_id, due.due_at)
            for item in batch
            for due in item.decided.checkins  # type: ignore[union-attr]
        ]
        if not planned:
            return {}
        rows = self._run(
            (
                "INSERT INTO checkin_instance (enrolment_id, checkin_id, due_at, opened_at)"
                " SELECT e, k, d, :now FROM unnest(CAST(:e AS integer[]), CAST(:k AS text[]),"
                " CAST(:d AS timestamptz[])) WITH ORDINALITY AS t(e, k, d, n) ORDER BY n"
                " ON CONFLICT (enrolment_id, checkin_id, due_at) DO NOTHING"
                " RETURNING id, enrolment_id, checkin_id"
            ),
            {
                "now": self.now,
                "e": [p[0] for p in planned],
                "k": [p[1] for p in planned],
                "d": [p[2] for p in planned],
            },
        )
        ids = {(eid, kid): cid for cid, eid, kid in rows}
        if len(ids) != len(planned):
            raise BatchConflict("a planned check-in occurrence exists already")
        self.checkins = len(ids)
        return ids

    def _insert_events(self, events: list[tuple[int, str, dict[str, Any]]]) -> None:
        if not events:
            return
        self._run(
            (
                "INSERT INTO event (enrolment_id, kind, at, data)"
                " SELECT e, k, :now, CAST(d AS json) FROM unnest(CAST(:e AS integer[]),"
                " CAST(:k AS text[]), CAST(:d AS text[])) WITH ORDINALITY AS t(e, k, d, n)"
                " ORDER BY n"
            ),
            {
                "now": self.now,
                "e": [ev[0] for ev in events],
                "k": [ev[1] for ev in events],
                "d": [json.dumps(ev[2]) for ev in events],
            },
        )

    def _insert_visits(self, visits: list[tuple[int, str, datetime]]) -> None:
        if not visits:
            return
        self._run(
            (
                "INSERT INTO phase_visit (enrolment_id, phase, started_at, reason)"
                " SELECT e, p, s, 'duration' FROM unnest(CAST(:e AS integer[]),"
                " CAST(:p AS text[]), CAST(:s AS timestamptz[])) WITH ORDINALITY"
                " AS t(e, p, s, n) ORDER BY n"
            ),
            {
                "e": [v[0] for v in visits],
                "p": [v[1] for v in visits],
                "s": [v[2] for v in visits],
            },
        )

    def _insert_notices(self, notices: list[tuple[int, _Claimed, str, dict[str, Any]]]) -> None:
        if not notices:
            return
        rows = self._run(
            (
                "INSERT INTO outbox_message (idempotency_key, kind, relative_id, enrolment_id,"
                " recipient, payload, status, attempts, next_attempt_at, created_at)"
                " SELECT k, 'notice', r, e, a, CAST(p AS json), 'pending', 0, :now, :now"
                " FROM unnest(CAST(:k AS text[]), CAST(:r AS integer[]), CAST(:e AS integer[]),"
                " CAST(:a AS text[]), CAST(:p AS text[])) WITH ORDINALITY AS t(k, r, e, a, p, n)"
                " ORDER BY n"
                " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
            ),
            {
                "now": self.now,
                "k": [n[2] for n in notices],
                "r": [n[1].row.relative_id for n in notices],
                "e": [n[0] for n in notices],
                "a": [n[1].row.relative_email for n in notices],
                "p": [json.dumps(n[3]) for n in notices],
            },
        )
        rows.close()
        # As advance_enrolment counts: a notice queued now or found queued already.
        self.notices = len(notices)

    def _update_enrolments(self, updates: list[tuple[Any, ...]]) -> None:
        self._run(
            (
                "UPDATE enrolment AS x SET next_due_at = t.due, next_module_at = t.module,"
                " last_email_on = t.emailed, notified_phase = t.phase,"
                " checkins_opened = CAST(t.opened AS json)"
                " FROM unnest(CAST(:e AS integer[]), CAST(:due AS timestamptz[]),"
                " CAST(:module AS timestamptz[]), CAST(:emailed AS date[]),"
                " CAST(:phase AS text[]), CAST(:opened AS text[]))"
                " AS t(e, due, module, emailed, phase, opened)"
                " WHERE x.id = t.e"
            ),
            {
                "e": [u[0] for u in updates],
                "due": [u[1] for u in updates],
                "module": [u[2] for u in updates],
                "emailed": [u[3] for u in updates],
                "phase": [u[4] for u in updates],
                "opened": [u[5] for u in updates],
            },
        )
