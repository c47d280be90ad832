"""What the benchmarks share: a throw-away PostgreSQL schema, an app on it, synthetic enrolments.

Each benchmark works in a schema of its own (default `lots_bench`), dropped and
built again with the migrations at the start, so it never touches other data in
the database it is pointed at.
"""

from __future__ import annotations

import argparse
import os
import time
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
        from flask_migrate import upgrade

        from guide.extensions import db
        from guide.services.library import current_library
        from guide.services.versions import sync_module_versions

        upgrade()
        sync_module_versions(db.session, current_library())
        db.engine.dispose()
    return url


def bench_app(url: str, **config: Any) -> Flask:
    """Build the app as `guide scheduler run` would, on `url` and the shipped content."""
    import logging

    from guide import create_app

    logging.getLogger("alembic").setLevel(logging.WARNING)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "GUIDE_CONTENT_DIR": str(SHIPPED_CONTENT),
            "GUIDE_RUN_SCHEDULER": False,
            "GUIDE_BASE_URL": "https://lots.example",
            "SECRET_KEY": "benchmark",
            "SERVER_NAME": "lots.example",
            **config,
        }
    )


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
