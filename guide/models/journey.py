"""A relative's journey in one guide: enrolment, phases, releases, check-ins, needs, events."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guide.models.accounts import Organisation, Unit
from guide.models.base import Model, UTCDateTime, utcnow
from guide.models.cards import Card
from guide.models.content import ModuleVersion
from guide.models.relatives import Relative

if TYPE_CHECKING:
    from guide.models.followup import ContactPerson, FollowupCall


class Enrolment(Model):
    """One relative in one guide, from one card. Due times are derived, never stored ahead."""

    # The release pass's claim: due active rows in (next_due_at, id) order, no sort.
    __table_args__ = (
        Index(
            "ix_enrolment_claim",
            "next_due_at",
            "id",
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relative.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), unique=True)
    guide_id: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    preferred_hour: Mapped[int] = mapped_column(default=9)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    # check-in id -> ISO due time of the newest occurrence already opened
    checkins_opened: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    last_email_on: Mapped[date | None] = mapped_column(Date)
    # The phase the relative's last e-mail was written in: the next one says if it changed.
    notified_phase: Mapped[str | None] = mapped_column(String(64))
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The planner's next scheduled module release, stored whenever it plans: pages read it.
    next_module_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="active")
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Retention: when the warning before erasing an unused enrolment was mailed, and
    # when the relative answered it with "keep me".
    retention_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retention_kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    relative: Mapped[Relative] = relationship()
    card: Mapped[Card] = relationship()
    organisation: Mapped[Organisation] = relationship()
    unit: Mapped[Unit] = relationship()
    phase_visits: Mapped[list[PhaseVisitRow]] = relationship(
        order_by="PhaseVisitRow.started_at, PhaseVisitRow.id", cascade="all, delete-orphan"
    )
    releases: Mapped[list[Release]] = relationship(
        order_by="Release.released_at.desc(), Release.id.desc()", cascade="all, delete-orphan"
    )
    # The guide's follow-up calls handled for this enrolment (each at most once).
    followup_calls: Mapped[list[FollowupCall]] = relationship(
        order_by="FollowupCall.id", cascade="all, delete-orphan"
    )
    # Read-only: "Din kontaktperson" on the relative's pages loads with the enrolment.
    contact_person: Mapped[ContactPerson | None] = relationship(viewonly=True)

    @property
    def current_phase(self) -> str:
        return self.phase_visits[-1].phase


class PhaseVisitRow(Model):
    __tablename__ = "phase_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    phase: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(16), default="start")


class Release(Model):
    """A module made available to an enrolment; the unique key makes a second release impossible."""

    __table_args__ = (UniqueConstraint("enrolment_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    module_id: Mapped[str] = mapped_column(String(100))
    module_version_id: Mapped[int] = mapped_column(ForeignKey("module_version.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(16), default="schedule")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[ModuleVersion] = relationship()


class CheckinInstance(Model):
    """One opened occurrence of a check-in; unanswered ones expire when a newer one opens."""

    __tablename__ = "checkin_instance"
    __table_args__ = (UniqueConstraint("enrolment_id", "checkin_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    checkin_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    enrolment: Mapped[Enrolment] = relationship()

    @hybrid_property
    def is_open(self) -> bool:
        """Waiting for an answer: neither answered nor expired (in SQL too)."""
        return self.answered_at is None and self.expired_at is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return and_(cls.answered_at.is_(None), cls.expired_at.is_(None))


class NeedTick(Model):
    """'Ditt behov': a need the relative ticked after reading a module."""

    __tablename__ = "need_tick"
    __table_args__ = (UniqueConstraint("enrolment_id", "module_id", "need_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    module_id: Mapped[str] = mapped_column(String(100))
    need_id: Mapped[str] = mapped_column(String(100))
    ticked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Event(Model):
    """Everything that happens to an enrolment, so its journey can be explained afterwards."""

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
