"""What the benchmarks share: a throw-away PostgreSQL schema, an app on it, synthetic enrolments.

Each benchmark works in a schema of its own (default `lots_bench`), dropped and
built again with the migrations at the start, so it never touches other data in
the database it is pointed at.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_CONTENT = REPOSITORY / "content"
DEFAULT_DATABASE = os.environ.get(
    "GUIDE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help="PostgreSQL URL (default: $GUIDE_BENCH_DATABASE_URL or the test database)",
    )
    parser.add_argument(
        "--schema", default="lots_bench", help="schema to drop and rebuild (default: lots_bench)"
    )
    return parser


def _driver_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def fresh_schema(database: str, schema: str) -> str:
    """Drop and create `schema`, migrate it, and return a URL whose search_path is it."""
    base = _driver_url(database)
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    app = bench_app(url)
    with app.app_context():
        from guide.extensions import db, upgrade_database
        from guide.services.library import current_library
        from guide.services.versions import sync_module_versions

        upgrade_database()
        sync_module_versions(db.session, current_library())
        db.engine.dispose()
    return url


def drop_schema(database: str, schema: str) -> None:
    """Drop a benchmark's schema, so that a million synthetic relatives do not stay behind."""
    engine = sa.create_engine(_driver_url(database))
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


# The variables every benchmark app runs with, as a deployment would set them; the
# developer's own GUIDE_*, MAIL_* and FLASK_* variables would change what is measured.
BENCH_ENVIRONMENT = {
    "GUIDE_CONTENT_DIR": str(SHIPPED_CONTENT),
    "GUIDE_RUN_SCHEDULER": "0",
    "GUIDE_BASE_URL": "https://lots.example",
    "GUIDE_SECRET_KEY": "benchmark-secret-0123456789abcdef",
}
FOREIGN_PREFIXES = ("GUIDE_", "MAIL_", "FLASK_")


def bench_environment(url: str, **variables: str) -> dict[str, str]:
    """Set this process's environment to run the app on `url`, plus `variables`; return it.

    Processes the benchmark starts (scheduler workers, gunicorn) inherit it, so they
    build exactly the same app.
    """
    for name in list(os.environ):
        if name.startswith(FOREIGN_PREFIXES) and name != "GUIDE_BENCH_DATABASE_URL":
            del os.environ[name]
    os.environ.update({**BENCH_ENVIRONMENT, "GUIDE_DATABASE_URL": url, **variables})
    return dict(os.environ)


def bench_app(url: str, **variables: str) -> Flask:
    """Build the app as `guide scheduler run` would: from the environment, on `url`.

    `variables` are further environment variables a deployment could set
    (`MAIL_SERVER=...`); create_app() takes no configuration in code.
    """
    import logging

    from guide import create_app

    logging.getLogger("alembic").setLevel(logging.WARNING)
    bench_environment(url, **variables)
    return create_app()


@dataclass(frozen=True)
class Scenario:
    """Bereaved relatives (efterlevande) one day after activation: one module each is due."""

    activated_at: datetime
    due_at: datetime  # vem-gor-vad, one day after activation at 09:00 local
    now: datetime  # the moment of the release pass


def scenario() -> Scenario:
    from zoneinfo import ZoneInfo

    stockholm = ZoneInfo("Europe/Stockholm")
    return Scenario(
        activated_at=datetime(2026, 9, 14, 15, 30, tzinfo=stockholm),
        due_at=datetime(2026, 9, 15, 9, 0, tzinfo=stockholm),
        now=datetime(2026, 9, 15, 9, 0, 30, tzinfo=stockholm),
    )


def enrol_synthetic(app: Flask, due: int, not_due: int) -> Scenario:
    """Create `due` enrolments due now and `not_due` others that fall due weeks later."""
    from guide.extensions import db
    from guide.services.accounts import create_organisation, create_unit
    from guide.services.journey import published_version
    from guide.services.library import current_library
    from tests.synthetic import create_enrolments

    moments = scenario()
    with app.app_context():
        organisation = create_organisation(db.session, "benchkommun", "Benchmark kommun")
        unit = create_unit(db.session, organisation, "stod", "Stöd till efterlevande")
        guide = current_library().guide("efterlevande")
        opening = published_version(db.session, guide.module("de-forsta-dagarna"))
        db.session.commit()
        common = {
            "organisation_id": organisation.id,
            "unit_id": unit.id,
            "guide_id": "efterlevande",
            "phase": "akut",
            "activated_at": moments.activated_at,
            "profile": {"relation": "partner", "barn-i-familjen": "no", "sysselsattning": "annat"},
            "opening_module": ("de-forsta-dagarna", opening.id),
        }
        with db.engine.begin() as connection:
            if due:
                create_enrolments(
                    connection, prefix="due", count=due, next_due_at=moments.due_at, **common
                )
            if not_due:
                create_enrolments(
                    connection,
                    prefix="later",
                    count=not_due,
                    next_due_at=moments.due_at + timedelta(days=21),
                    **common,
                )
        with db.engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
        db.engine.dispose()
    return moments


@contextmanager
def timed(label: str, count: int | None = None, unit: str = "") -> Iterator[dict[str, float]]:
    """Time the block and print how long it took (and the rate, given a count)."""
    result: dict[str, float] = {}
    started = time.perf_counter()
    cpu = time.process_time()
    yield result
    result["seconds"] = time.perf_counter() - started
    result["cpu"] = time.process_time() - cpu
    line = f"{label}: {result['seconds']:.2f} s (this process's CPU {result['cpu']:.2f} s)"
    if count:
        result["rate"] = count / result["seconds"]
        line += f", {result['rate']:,.0f} {unit or 'per second'}"
    print(line, flush=True)


PROJECT_FOLDERS = tuple(str(REPOSITORY / name) + os.sep for name in ("guide", "scheduler"))


class StatementCounter:
    """Count the SQL statements an engine sends while the block runs, and its commits.

    Every statement goes through SQLAlchemy's `before_cursor_execute`, so this is what
    the database was asked, one round trip each (an `executemany` counts once). With
    `origins`, each statement is also filed under the innermost line of guide/ or
    scheduler/ that caused it (a little slower: for finding, not for timing).
    """

    def __init__(self, engine: sa.Engine, origins: bool = False) -> None:
        self.engine = engine
        self.origins = origins
        self.statements = 0
        self.commits = 0
        self.by_kind: Counter[str] = Counter()
        self.by_origin: Counter[tuple[str, str]] = Counter()

    def __enter__(self) -> StatementCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        sa.event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        kind = statement_kind(statement)
        self.by_kind[kind] += 1
        if self.origins:
            self.by_origin[(kind, _origin())] += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def report(self, per: int, unit: str, top: int = 12) -> list[str]:
        """Return lines: statements (and commits) per `unit`, and the commonest kinds."""
        per = max(per, 1)
        lines = [
            f"SQL: {self.statements:,} statements, {self.statements / per:.2f} per {unit}; "
            f"{self.commits:,} commits, {self.commits / per:.2f} per {unit}"
        ]
        for kind, count in self.by_kind.most_common(top):
            lines.append(f"    {count / per:7.3f} per {unit}  {kind}")
        if self.origins:
            lines.append("  where they come from:")
            for (kind, origin), count in self.by_origin.most_common(top):
                lines.append(f"    {count / per:7.3f} per {unit}  {kind:<32} {origin}")
        return lines


KIND = re.compile(
    r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)"
    r"\s*(\w+)?",
    re.IGNORECASE,
)
FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)


def statement_kind(statement: str) -> str:
    """Name a statement by its verb and table: `SELECT enrolment`, `INSERT INTO release`."""
    match = KIND.match(statement)
    if match is None:
        return statement.split(None, 1)[0].upper() if statement.strip() else "(empty)"
    verb = match.group(1).upper()
    if verb.endswith("SAVEPOINT"):
        return verb
    if verb == "SELECT":
        table = FROM.search(statement)
        return f"SELECT {table.group(1) if table else ''}".strip()
    return f"{verb} {match.group(2) or ''}".strip()


def _origin() -> str:
    """Return `path:line function` of the innermost frame in guide/ or scheduler/."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(PROJECT_FOLDERS):
            relative = filename[len(str(REPOSITORY)) + 1 :]
            return f"{relative}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "(outside guide/ and scheduler/)"
