"""The editors' workspace: drafts of module files under review, and what editors published."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guide.models.accounts import StaffUser
from guide.models.base import Model, UTCDateTime, utcnow
from guide.models.content import ModuleVersion


class DraftState(StrEnum):
    """utkast → granskas → godkänd → publicerad, or återvisad back to the author."""

    DRAFT = "utkast"
    IN_REVIEW = "granskas"
    APPROVED = "godkand"
    PUBLISHED = "publicerad"
    REJECTED = "atervisad"


OPEN_STATES = (DraftState.DRAFT, DraftState.IN_REVIEW, DraftState.APPROVED, DraftState.REJECTED)


class EditorDraft(Model):
    """One editor's change to one module file (or the retiring of a module), with its review.

    `base_version_id` is the live version the draft was written against (None for a
    new module); saving or publishing over a newer live version is refused.
    """

    __tablename__ = "editor_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[str] = mapped_column(String(64), index=True)
    module_id: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(Text, default="")
    retire: Mapped[bool] = mapped_column(default=False)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("module_version.id"))
    state: Mapped[str] = mapped_column(String(20), default=DraftState.DRAFT, index=True)
    # [{line, field, message, severity}] from the checker at the last save
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("module_version.id"))

    author: Mapped[StaffUser] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[StaffUser | None] = relationship(foreign_keys=[reviewer_id])
    base_version: Mapped[ModuleVersion | None] = relationship(foreign_keys=[base_version_id])

    @property
    def has_errors(self) -> bool:
        return any(p.get("severity", "error") == "error" for p in self.problems or [])


class ModulePublication(Model):
    """One moment a module's live text changed: by an editor's publish or by `guide content sync`.

    `sources` holds the module's files as published (file name -> text), so the live
    state can be rebuilt and exported; a retired module has no version and no files.
    `in_files` says the content folder caught up (sync saw the same files), so a later
    sync of older files stops instead of reverting what editors published.
    """

    __tablename__ = "module_publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[str] = mapped_column(String(64), index=True)
    module_id: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("module_version.id"))
    sources: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    origin: Mapped[str] = mapped_column(String(10), default="editor")  # editor | sync
    in_files: Mapped[bool] = mapped_column(default=False)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("editor_draft.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    version: Mapped[ModuleVersion | None] = relationship()
    author: Mapped[StaffUser | None] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[StaffUser | None] = relationship(foreign_keys=[reviewer_id])

    @property
    def retired(self) -> bool:
        return self.version_id is None
