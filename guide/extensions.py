"""Flask extensions, created unbound here and bound to the app in create_app()."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

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
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def select_locale() -> str:
    """Pick the language: the relative's choice in the session, else the browser's, else Swedish.

    Outside a request (a command, a scheduler thread) there is nobody to ask: Swedish,
    unless the caller chose with `force_locale` (mail to a relative does).
    """

    if not has_request_context():
        return "sv"

    chosen = session.get("language")
    if chosen in ("sv", "en"):
        return str(chosen)
    return request.accept_languages.best_match(["sv", "en"]) or "sv"
