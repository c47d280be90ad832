"""Fixtures: a fresh app and database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from guide import create_app
from guide.extensions import db

TESTS = Path(__file__).resolve().parent
FIXTURE_CONTENT = TESTS / "fixtures" / "content" / "good"
SHIPPED_CONTENT = TESTS.parent / "content"
POSTGRES_URL = os.environ.get("GUIDE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def _postgres_url() -> str:
    assert POSTGRES_URL
    url = POSTGRES_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """Build a PostgreSQL schema of this run's own with the migrations themselves.

    Each run gets its own schema (and search_path), so two runs on one server never
    meet. With GUIDE_TEST_POSTGRES_URL set, a server that does not answer is an
    error, not a skip.
    """
    base = _postgres_url()
    schema = f"lots_test_{os.getpid()}"
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    app = create_app(_test_config(url, FIXTURE_CONTENT))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def _test_config(database_url: str, content_dir: Path) -> dict[str, object]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "GUIDE_CONTENT_DIR": str(content_dir),
        "GUIDE_RUN_SCHEDULER": False,
        "GUIDE_CAPTURE_MAIL": True,
        "GUIDE_BASE_URL": "http://lots.test",
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "lots.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Still Argon2id, at a cost that keeps the suite fast.
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def content_dir() -> Path:
    """The content an app test runs on; override in a test module to use another folder."""
    return FIXTURE_CONTENT


@pytest.fixture
def app(
    backend: str, tmp_path: Path, content_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_schema")
    else:
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app(_test_config(url, content_dir))
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        yield app
        db.session.remove()
        if backend == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture content, for tests that break it on purpose."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, target)
    return target


def at(text: str) -> datetime:
    """Parse '2026-03-28 14:05' (Stockholm local) into an aware UTC datetime."""
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Stockholm"))
    return local.astimezone(UTC)
