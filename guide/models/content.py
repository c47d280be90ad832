"""Published module versions and an organisation's values for local facts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guide.models.base import Model, UTCDateTime, utcnow


class ModuleVersion(Model):
    """One immutable published text of a module, keyed by its content hash.

    A release points at the version it released, so a relative always sees exactly
    the text that was sent to them, even after the module changes.
    """

    __tablename__ = "module_version"
    __table_args__ = (UniqueConstraint("guide_id", "module_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[str] = mapped_column(String(64))
    module_id: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    # language -> {"title", "summary", "body", "needs": {id: text}}
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LocalFactValue(Model):
    """An organisation's own value for a `{{ local.key }}` placeholder, or one unit's override.

    A row without `unit_id` is the organisation's value; a row with one overrides it
    for the relatives whose card that unit issued. Values are plain text.
    """

    __tablename__ = "local_fact_value"
    __table_args__ = (UniqueConstraint("organisation_id", "unit_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
