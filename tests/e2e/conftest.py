"""Fixtures for the end-to-end suite: a fresh deployment per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from tests.e2e.deployment import GUIDE, Deployment
from tests.smtp_sink import SmtpSink, running_sink

_schemas = itertools.count()


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database nobody else uses: an SQLite file, or a PostgreSQL schema of this test's own."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'lots.sqlite3'}"
        return
    assert POSTGRES_URL
    schema = f"lots_e2e_{os.getpid()}_{next(_schemas)}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def deployment(database: str, sink: SmtpSink, tmp_path: Path) -> Deployment:
    """A deployment whose database is migrated, as an operator's first command does."""
    assert GUIDE.exists(), f"the `guide` command is not installed beside {GUIDE.parent}/python"
    root = tmp_path / "deployment"
    root.mkdir()
    deployed = Deployment(root, database, sink)
    deployed.guide("db", "upgrade")
    return deployed
