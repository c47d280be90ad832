"""Organisations, their units, staff accounts and API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guide.models.base import Model, UTCDateTime, utcnow


class StaffRole(StrEnum):
    STAFF = "staff"
    ORG_ADMIN = "org_admin"
    EDITOR = "editor"
    ADMIN = "admin"


class Organisation(Model):
    """A tenant: a municipality, a region or an NGO."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    units: Mapped[list[Unit]] = relationship(back_populates="organisation", order_by="Unit.name")


class Unit(Model):
    """A team inside an organisation that hands out cards and follows up relatives."""

    __table_args__ = (UniqueConstraint("organisation_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="units")


class StaffUser(Model):
    """A staff member, organisation admin, editor or system admin."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20), default=StaffRole.STAFF)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A deactivated account cannot log in; its sessions and tokens stop at once.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised at logout and deactivation: every session cookie issued before stops.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    organisation: Mapped[Organisation | None] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @hybrid_property
    def active(self) -> bool:
        """Not deactivated (in SQL too)."""
        return self.deactivated_at is None

    @active.inplace.expression
    @classmethod
    def _active_expression(cls) -> ColumnElement[bool]:
        return cls.deactivated_at.is_(None)

    def has_role(self, *roles: StaffRole) -> bool:
        return self.role in roles or self.role == StaffRole.ADMIN


class ApiToken(Model):
    """A bearer token for the JSON API; only its hash is stored.

    A relative's token from redeeming a card has `address_proved` false: it stops
    once the address is proved by a mailed link, like the session redeeming gave.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    relative_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    address_proved: Mapped[bool] = mapped_column(default=True, server_default=true())

    staff_user: Mapped[StaffUser | None] = relationship()
