"""Fixtures: a fresh app and database per test, on SQLite and (when configured) PostgreSQL.

The app is built from environment variables only, exactly as `guide serve` builds it.
Flask, SQLAlchemy and the app are imported inside the fixtures that need them, so the
pure tests (tests/pure/) never load them.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

TESTS = Path(__file__).resolve().parent


def _only(folder: Path, arguments: list[str]) -> bool:
    """Whether the command line names test paths and every one lies in `folder`."""
    paths = [argument.split("::")[0] for argument in arguments if not argument.startswith("-")]
    return bool(paths) and all(Path(path).resolve().is_relative_to(folder) for path in paths)


# Hypothesis's plugin is named here rather than loaded from its entry point (pyproject
# turns that off): loaded that way pytest would rewrite the asserts of all of
# hypothesis on each run where bytecode is not cached. The pure tests use no
# hypothesis, so `pytest tests/pure` leaves the plugin out (0.4 s of its 1.3 s); any
# other command line, xdist's workers included, loads it.
pytest_plugins = [] if _only(TESTS / "pure", sys.argv[1:]) else ["_hypothesis_pytestplugin"]

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner

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


# What every test app runs with: the environment variables a deployment sets, no more.
# A test that needs another setting sets another variable a deployment could set too
# (the `app_environment` fixture, or `make_app(**variables)`); never a config key.
TEST_ENVIRONMENT = {
    "GUIDE_BASE_URL": "http://lots.test",
    "GUIDE_SECRET_KEY": "test-secret-0123456789abcdef",
    "GUIDE_RUN_SCHEDULER": "0",
    "GUIDE_RATELIMIT_STORAGE_URI": "memory://",
    # Still Argon2id, at a cost that keeps the suite fast.
    "GUIDE_ARGON2_TIME_COST": "1",
    "GUIDE_ARGON2_MEMORY_KIB": "1024",
    "GUIDE_ARGON2_PARALLELISM": "1",
}
# Variables of the developer's own shell that would change what the tests run.
FOREIGN_PREFIXES = ("GUIDE_", "MAIL_", "FLASK_")


def set_environment(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    """Make the process environment exactly TEST_ENVIRONMENT plus `variables`."""
    for name in list(os.environ):
        if name.startswith(FOREIGN_PREFIXES) and name != "GUIDE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    for name, value in {**TEST_ENVIRONMENT, **variables}.items():
        monkeypatch.setenv(name, value)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the product's bytecode once, before the suite starts hundreds of `guide` processes.

    Python writes no bytecode where PYTHONDONTWRITEBYTECODE is set (CI machines set
    it), so each `guide` command the end-to-end tests run would compile the whole
    package from source again: 0.4 s of its 2 s start. Only the controller compiles;
    what is already up to date is left alone.
    """
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller did it
        return
    if _only(TESTS / "pure", session.config.args):  # no process, and no app, in there
        return
    import compileall

    for package in ("guide", "scheduler", "activation_codes"):
        compileall.compile_dir(TESTS.parent / package, quiet=1)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """Build a PostgreSQL schema of this run's own with the migrations themselves.

    Each run gets its own schema (and search_path), so two runs on one server never
    meet. With GUIDE_TEST_POSTGRES_URL set, a server that does not answer is an
    error, not a skip.
    """
    import sqlalchemy as sa

    from guide import create_app
    from guide.extensions import db, upgrade_database

    base = _postgres_url()
    schema = f"lots_test_{os.getpid()}"
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        set_environment(
            monkeypatch, {"GUIDE_DATABASE_URL": url, "GUIDE_CONTENT_DIR": str(FIXTURE_CONTENT)}
        )
        app = create_app()
        with app.app_context():
            upgrade_database()
            db.engine.dispose()
    yield url
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def content_dir() -> Path:
    """The content an app test runs on; override in a test module to use another folder."""
    return FIXTURE_CONTENT


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The database of this test: a fresh SQLite file, or this run's PostgreSQL schema."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_schema"))
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app_environment() -> dict[str, str]:
    """Further environment variables for this test's app; override to add some."""
    return {}


@pytest.fixture
def make_app(
    backend: str,
    database_url: str,
    content_dir: Path,
    app_environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Callable[..., Flask]]:
    """Return a function that builds the app from the environment, as `guide serve` does.

    `make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT="2525")` adds variables for one app.
    Each app works on this test's database; its app context is pushed until the test ends.
    """
    import sqlalchemy as sa

    from guide import create_app
    from guide.extensions import db
    from tests.clients import FormClient

    contexts: list[Any] = []
    apps: list[Flask] = []
    instance_dir = tmp_path / "instance"  # never the checkout's own

    def build(**variables: str) -> Flask:
        set_environment(
            monkeypatch,
            {
                "GUIDE_DATABASE_URL": database_url,
                "GUIDE_INSTANCE_DIR": str(instance_dir),
                "GUIDE_CONTENT_DIR": str(content_dir),
                **app_environment,
                **variables,
            },
        )
        app = create_app()
        app.test_client_class = FormClient
        context = app.app_context()
        context.push()
        contexts.append(context)
        apps.append(app)
        if backend == "sqlite":
            db.create_all()
        return app

    yield build
    for context in reversed(contexts):
        db.session.remove()
        context.pop()
    if apps:
        with apps[0].app_context():
            if backend == "postgresql":
                tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                with db.engine.begin() as connection:
                    connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for app in apps:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def raw_client(app: Flask) -> FlaskClient:
    """A client that sends no CSRF token by itself: a forged form post."""
    from flask.testing import FlaskClient

    return FlaskClient(app, app.response_class, use_cookies=True)


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
