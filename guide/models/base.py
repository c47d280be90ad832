"""Column helpers shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, scoped_session

# What services take: a session, or the app's scoped session (db.session) that stands for one.
DbSession: TypeAlias = Session | scoped_session[Any]


def end_read(session: DbSession) -> None:
    """End a page's read-only transaction with COMMIT instead of the teardown's ROLLBACK.

    psycopg forgets every prepared statement at a ROLLBACK, so a page that ends in
    one has PostgreSQL plan its statements anew on every request (half a millisecond
    for Min guide's enrolments); a COMMIT of a transaction that wrote nothing keeps
    them. Only for views that write nothing: one that changed an object is refused.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read: this request changed objects; commit them on purpose")
    plain = session() if isinstance(session, scoped_session) else session
    expiring, plain.expire_on_commit = plain.expire_on_commit, False  # nothing changed
    try:
        plain.commit()
    finally:
        plain.expire_on_commit = expiring


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database; SQLite would hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


if TYPE_CHECKING:
    # What db.Model is, as far as the type checker is concerned: Flask-SQLAlchemy builds
    # it at run time from our declarative Base, which mypy cannot follow.
    from guide.extensions import Base as Model
else:
    from guide.extensions import db

    Model = db.Model
