"""Flask extensions, created unbound here and bound to the app in create_app()."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_translations
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from guide.config import PACKAGE_ROOT

# Named constraints so Alembic migrations are stable on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
mail = Mail()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


MIGRATIONS = PACKAGE_ROOT / "migrations"


def bind_migrations(app: Flask) -> None:
    """Give `app` Flask-Migrate's configuration, which `guide db` and upgrade_database need.

    Bound on first use rather than in create_app: Flask-Migrate brings Alembic (with
    Mako and Pygments), 0.2 s of every process's start, and only migrating needs it.
    """
    if "migrate" not in app.extensions:
        _flask_migrate().Migrate(
            app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True
        )


def upgrade_database() -> None:
    """Apply every migration to the current app's database, as `guide db upgrade` does."""
    bind_migrations(current_app)
    _flask_migrate().upgrade()


def _flask_migrate() -> Any:
    import flask_migrate  # noqa: PLC0415 - Alembic only where something migrates

    return flask_migrate


LANGUAGES = ("sv", "en")
LANGUAGE_COOKIE = "lots_language"


def select_locale() -> str:
    """Pick the language: the relative's choice, else the visitor's, else the browser's, else Swedish.

    A logged-in relative's choice is `Relative.language` (set by the switch on every
    page, guide.web.language, or PATCH /api/v1/me/settings), whether the relative came
    with a session or an API token; a visitor's is the cookie that switch sets. Outside a
    request (a command, a scheduler thread) there is nobody to ask: Swedish, unless
    the caller chose with `force_locale` (mail to a relative does).
    """

    if not has_request_context():
        return "sv"
    relative = g.get("relative") or g.get("api_relative")
    if relative is not None and relative.language in LANGUAGES:
        return str(relative.language)
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or "sv"


# Translations looked up once for a whole rendering (see `pinned_translations`).
_pinned: ContextVar[Any] = ContextVar("pinned_translations", default=None)


def _translations() -> Any:
    pinned = _pinned.get()
    return get_translations() if pinned is None else pinned


def install_template_gettext(app: Flask) -> None:
    """Let templates translate as Flask-Babel's do, through pinned translations if any.

    Flask-Babel looks the locale's translations up anew for every string a template
    translates; a mail says about fourteen.
    """
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


@contextmanager
def pinned_translations() -> Iterator[None]:
    """Translate everything rendered inside with the translations of the locale now in force."""
    token = _pinned.set(get_translations())
    try:
        yield
    finally:
        _pinned.reset(token)
