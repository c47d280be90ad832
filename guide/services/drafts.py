"""Editors' drafts of module files: save with the checker, four-eyes review, and publishing.

A draft is one module file as an editor wrote it (front matter and body), or the
retiring of a module. It records the live version it was written against; saving or
publishing over a newer live version is refused (`stale_base`), never overwritten.
The author cannot approve their own draft (`self_review`): the server refuses it,
whatever a page shows. Publishing stores the next immutable ModuleVersion, the same
kind `guide content sync` stores, so relatives who received the module see it as
updated and nobody receives it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from guide.content.model import Guide, Library, Module
from guide.content.workspace import (
    FileProblem,
    check_guide,
    module_filename,
    module_files,
    with_fields,
)
from guide.errors import GuideError
from guide.models import (
    DraftState,
    EditorDraft,
    ModulePublication,
    ModuleVersion,
    StaffRole,
    StaffUser,
)
from guide.models.base import DbSession
from guide.models.editor import OPEN_STATES
from guide.services.journey import published_version
from guide.services.library import latest_publications, library_changed


class DraftError(GuideError):
    """An editor's change that cannot be made as asked."""

    @classmethod
    def not_found(cls) -> DraftError:
        return cls("draft_not_found", "Utkastet finns inte.", 404)

    @classmethod
    def guide_unknown(cls, guide_id: str) -> DraftError:
        return cls("guide_unknown", f"Det finns ingen guide som heter {guide_id}.", 404, "guide")

    @classmethod
    def module_unknown(cls, module_id: str) -> DraftError:
        return cls("module_unknown", f"Avsnittet {module_id} finns inte i guiden.", 404, "module")

    @classmethod
    def language_unknown(cls, language: str) -> DraftError:
        return cls("language_unknown", f"Guiden har inte språket {language}.", 400, "language")

    @classmethod
    def self_review(cls) -> DraftError:
        return cls(
            "self_review",
            "Du kan inte granska ditt eget utkast. Be en annan redaktör att godkänna det.",
            403,
        )

    @classmethod
    def not_author(cls) -> DraftError:
        return cls(
            "not_author",
            "Bara den som skrev utkastet kan ändra det eller skicka det på granskning.",
            403,
        )

    @classmethod
    def stale_base(cls, live_version: int | None, live_source: str) -> DraftError:
        return cls(
            "stale_base",
            "Avsnittet har publicerats i en nyare version sedan du började. "
            "Jämför texterna och skriv in dina ändringar i den nya versionen.",
            409,
            "base_version",
            live_version=live_version,
            live_source=live_source,
        )

    @classmethod
    def wrong_state(cls, state: str, wanted: str) -> DraftError:
        return cls(
            "draft_state",
            f"Utkastet är {STATE_LABELS.get(state, state)}. Det måste vara {wanted} först.",
            409,
        )

    @classmethod
    def not_approved(cls) -> DraftError:
        return cls(
            "not_approved",
            "Utkastet är inte godkänt. En annan redaktör måste godkänna det innan det publiceras.",
            409,
        )

    @classmethod
    def has_errors(cls) -> DraftError:
        return cls(
            "draft_has_errors",
            "Utkastet har fel som måste rättas innan det kan granskas eller publiceras.",
            422,
            "source",
        )

    @classmethod
    def comment_required(cls) -> DraftError:
        return cls(
            "comment_required",
            "Skriv en kommentar som säger vad som behöver ändras.",
            400,
            "comment",
        )

    @classmethod
    def not_an_editor(cls) -> DraftError:
        return cls("editor_only", "Bara redaktörer kan ändra innehållet.", 403)


STATE_LABELS: dict[str, str] = {
    DraftState.DRAFT: "utkast",
    DraftState.IN_REVIEW: "granskas",
    DraftState.APPROVED: "godkänd",
    DraftState.PUBLISHED: "publicerad",
    DraftState.REJECTED: "återvisad",
}


@dataclass(frozen=True)
class Workspace:
    """Where a draft is checked: the live library and the content folder beneath it."""

    library: Library
    content_dir: Path

    def guide(self, guide_id: str) -> Guide:
        guide = self.library.guides.get(guide_id)
        if guide is None:
            raise DraftError.guide_unknown(guide_id)
        return guide


def live_module(workspace: Workspace, guide_id: str, module_id: str) -> Module | None:
    guide = workspace.guide(guide_id)
    return guide.module(module_id) if guide.has_module(module_id) else None


def live_version(
    session: DbSession, workspace: Workspace, guide_id: str, module_id: str
) -> ModuleVersion | None:
    """Return the version relatives get now (stored if it was not yet), or None for no module.

    The latest publication in the database decides, so a publication by another
    process a moment ago counts even before this process rebuilt its library.
    """
    publication = latest_publications(session, guide_id).get((guide_id, module_id))
    if publication is not None:
        return publication.version
    module = live_module(workspace, guide_id, module_id)
    return published_version(session, module) if module is not None else None


def live_files(
    session: DbSession, workspace: Workspace, guide_id: str, module_id: str
) -> dict[str, str]:
    """Return the module's files as relatives get them: the latest publication, or the folder."""
    publication = latest_publications(session, guide_id).get((guide_id, module_id))
    if publication is not None:
        return {} if publication.retired else dict(publication.sources)
    return module_files(workspace.content_dir / guide_id, module_id)


def draft_filename(workspace: Workspace, draft: EditorDraft) -> str:
    guide = workspace.guide(draft.guide_id)
    return module_filename(draft.module_id, draft.language, guide.fallback_language)


def check_draft_source(
    session: DbSession,
    workspace: Workspace,
    guide_id: str,
    module_id: str,
    language: str,
    source: str,
    retire: bool = False,
) -> tuple[tuple[FileProblem, ...], Module | None]:
    """Run `guide content check` on the guide with this file changed; return problems and module."""
    guide = workspace.guide(guide_id)
    if language not in guide.languages:
        raise DraftError.language_unknown(language)
    name = module_filename(module_id, language, guide.fallback_language)
    files: dict[str, str] | None
    if retire:
        files = None
    else:
        files = live_files(session, workspace, guide_id, module_id)
        files[name] = source
    checked = check_guide(workspace.content_dir, guide_id, {module_id: files}, focus=name)
    own = tuple(p for p in checked.problems if p.file == f"modules/{name}")
    others = tuple(p for p in checked.problems if p.file != f"modules/{name}")
    problems = with_fields(own, source) + others
    module = None
    if checked.guide is not None and checked.guide.has_module(module_id):
        module = checked.guide.module(module_id)
    return problems, module


def _require_editor(editor: StaffUser) -> None:
    if not editor.has_role(StaffRole.EDITOR):
        raise DraftError.not_an_editor()


@dataclass(frozen=True)
class NewerLive:
    """The live version that came after the one a text was written against."""

    version_id: int | None
    source: str


def newer_live(
    session: DbSession,
    workspace: Workspace,
    guide_id: str,
    module_id: str,
    language: str,
    base_version_id: int | None,
) -> NewerLive | None:
    """Return the live version and its file when it is not `base_version_id`, else None."""
    live = live_version(session, workspace, guide_id, module_id)
    live_id = live.id if live is not None else None
    if live_id == base_version_id:
        return None
    guide = workspace.guide(guide_id)
    name = module_filename(module_id, language, guide.fallback_language)
    text = live_files(session, workspace, guide_id, module_id).get(name, "")
    return NewerLive(live_id, text)


def _refuse_stale(
    session: DbSession, workspace: Workspace, draft: EditorDraft, base_version_id: int | None
) -> None:
    newer = newer_live(
        session, workspace, draft.guide_id, draft.module_id, draft.language, base_version_id
    )
    if newer is not None:
        raise DraftError.stale_base(newer.version_id, newer.source)


def save_draft(
    session: DbSession,
    workspace: Workspace,
    editor: StaffUser,
    *,
    guide_id: str,
    module_id: str,
    source: str,
    base_version_id: int | None,
    now: datetime,
    language: str | None = None,
    retire: bool = False,
    draft: EditorDraft | None = None,
) -> EditorDraft:
    """Create or change a draft, checking it as a whole; a newer live version refuses it."""
    _require_editor(editor)
    guide = workspace.guide(guide_id)
    language = language or guide.fallback_language
    if language not in guide.languages:
        raise DraftError.language_unknown(language)
    if retire and live_module(workspace, guide_id, module_id) is None:
        raise DraftError.module_unknown(module_id)
    if draft is None:
        draft = EditorDraft(
            guide_id=guide_id,
            module_id=module_id,
            language=language,
            author_id=editor.id,
            author=editor,
            created_at=now,
            state=DraftState.DRAFT,
            comment="",
        )
    else:
        if draft.author_id != editor.id:
            raise DraftError.not_author()
        if draft.state == DraftState.PUBLISHED:
            raise DraftError.wrong_state(draft.state, "ett öppet utkast")
    _refuse_stale(session, workspace, draft, base_version_id)
    if retire:
        name = module_filename(module_id, language, guide.fallback_language)
        source = live_files(session, workspace, guide_id, module_id).get(name, "")
    problems, _ = check_draft_source(
        session, workspace, guide_id, module_id, language, source, retire
    )
    draft.source = source
    draft.retire = retire
    draft.base_version_id = base_version_id
    draft.problems = [p.as_json() for p in problems]
    draft.updated_at = now
    # A change after review goes through review again.
    draft.state = DraftState.DRAFT
    draft.reviewer_id = None
    draft.reviewed_at = None
    session.add(draft)
    session.flush()
    return draft


def submit_draft(session: DbSession, draft: EditorDraft, editor: StaffUser, now: datetime) -> None:
    """Send a draft for review by another editor; a draft with errors cannot go."""
    _require_editor(editor)
    if draft.author_id != editor.id:
        raise DraftError.not_author()
    if draft.state not in (DraftState.DRAFT, DraftState.REJECTED):
        raise DraftError.wrong_state(draft.state, "ett utkast")
    if draft.has_errors:
        raise DraftError.has_errors()
    draft.state = DraftState.IN_REVIEW
    draft.updated_at = now
    session.flush()


def review_draft(
    session: DbSession,
    draft: EditorDraft,
    reviewer: StaffUser,
    decision: str,
    comment: str,
    now: datetime,
) -> None:
    """Approve a draft, or send it back with a comment; never by its own author."""
    _require_editor(reviewer)
    if draft.author_id == reviewer.id:
        raise DraftError.self_review()
    if draft.state != DraftState.IN_REVIEW:
        raise DraftError.wrong_state(draft.state, "skickat på granskning")
    comment = comment.strip()
    if decision == "reject" and not comment:
        raise DraftError.comment_required()
    draft.state = DraftState.APPROVED if decision == "approve" else DraftState.REJECTED
    draft.reviewer_id = reviewer.id
    draft.reviewer = reviewer
    draft.comment = comment
    draft.reviewed_at = now
    draft.updated_at = now
    session.flush()


def publish_draft(
    session: DbSession, workspace: Workspace, draft: EditorDraft, editor: StaffUser, now: datetime
) -> ModuleVersion | None:
    """Make an approved draft live: the next immutable version (None: the module retired)."""
    _require_editor(editor)
    if draft.state != DraftState.APPROVED:
        raise DraftError.not_approved()
    if draft.base_version_id is not None:
        # Two publishes over the same base take turns here (PostgreSQL), so the second
        # sees the first's publication and is refused as stale instead of overwriting it.
        session.get(ModuleVersion, draft.base_version_id, with_for_update=True)
    _refuse_stale(session, workspace, draft, draft.base_version_id)
    problems, module = check_draft_source(
        session,
        workspace,
        draft.guide_id,
        draft.module_id,
        draft.language,
        draft.source,
        draft.retire,
    )
    if any(p.severity == "error" for p in problems) or (module is None and not draft.retire):
        draft.problems = [p.as_json() for p in problems]
        raise DraftError.has_errors()
    files = live_files(session, workspace, draft.guide_id, draft.module_id)
    version = None
    if draft.retire:
        files = {}
    else:
        files[draft_filename(workspace, draft)] = draft.source
        assert module is not None
        version = published_version(session, module)
    session.add(
        ModulePublication(
            guide_id=draft.guide_id,
            module_id=draft.module_id,
            version_id=version.id if version else None,
            sources=files,
            origin="editor",
            in_files=False,
            draft_id=draft.id,
            author_id=draft.author_id,
            reviewer_id=draft.reviewer_id,
            comment=draft.comment,
            published_at=now,
        )
    )
    draft.state = DraftState.PUBLISHED
    draft.published_version_id = version.id if version else None
    draft.updated_at = now
    session.flush()
    library_changed()
    return version


def restore_version(
    session: DbSession,
    workspace: Workspace,
    version: ModuleVersion,
    editor: StaffUser,
    now: datetime,
) -> EditorDraft:
    """Start a draft that brings back an old version's original file (reviewed like any other)."""
    guide = workspace.guide(version.guide_id)
    name = module_filename(version.module_id, guide.fallback_language, guide.fallback_language)
    source = version_sources(session, version).get(name) or synthesized_source(version)
    live = live_version(session, workspace, version.guide_id, version.module_id)
    return save_draft(
        session,
        workspace,
        editor,
        guide_id=version.guide_id,
        module_id=version.module_id,
        source=source,
        base_version_id=live.id if live else None,
        now=now,
    )


def version_sources(session: DbSession, version: ModuleVersion) -> dict[str, str]:
    """Return the files a version was published with, when a publication kept them."""
    publication = session.scalar(
        select(ModulePublication)
        .where(ModulePublication.version_id == version.id)
        .order_by(ModulePublication.id.desc())
    )
    return dict(publication.sources) if publication is not None else {}


def synthesized_source(version: ModuleVersion) -> str:
    """A version stored before its files were kept: its texts, title and summary first."""
    text = next(iter(version.texts.values()))
    return f"# {text['title']}\n\n{text['summary']}\n\n{text['body']}"


def open_drafts(session: DbSession, guide_id: str | None = None) -> list[EditorDraft]:
    query = select(EditorDraft).where(EditorDraft.state.in_(OPEN_STATES))
    if guide_id is not None:
        query = query.where(EditorDraft.guide_id == guide_id)
    return list(session.scalars(query.order_by(EditorDraft.id)))


def get_draft(session: DbSession, draft_id: int) -> EditorDraft:
    draft = session.get(EditorDraft, draft_id)
    if draft is None:
        raise DraftError.not_found()
    return draft


def draft_json(draft: EditorDraft) -> dict[str, Any]:
    return {
        "id": draft.id,
        "guide": draft.guide_id,
        "module": draft.module_id,
        "language": draft.language,
        "state": draft.state,
        "retire": draft.retire,
        "base_version": draft.base_version_id,
        "author": draft.author.email,
        "reviewer": draft.reviewer.email if draft.reviewer else None,
        "comment": draft.comment,
        "problems": [
            {k: p[k] for k in ("line", "field", "message", "severity", "file")}
            for p in draft.problems or []
        ],
        "published_version": draft.published_version_id,
        "updated_at": draft.updated_at.isoformat(),
    }
