"""What the editors' workspace shows: modules with their live versions, version history, diffs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import select

from guide.content.diff import Piece, changed, diff_html, word_diff
from guide.content.model import Guide
from guide.content.readability import lix
from guide.content.render import render_markdown, render_plain
from guide.content.workspace import FileProblem, body_lix, body_of
from guide.models import EditorDraft, ModulePublication, ModuleVersion
from guide.models.base import DbSession
from guide.services.drafts import (
    STATE_LABELS,
    Workspace,
    check_draft_source,
    draft_filename,
    live_version,
    open_drafts,
    synthesized_source,
    version_sources,
)
from guide.services.local_facts import local_values


def module_overview(session: DbSession, workspace: Workspace, guide: Guide) -> list[dict[str, Any]]:
    """Return each module of the guide: live version, LIX per language, its open drafts."""
    drafts: dict[str, list[EditorDraft]] = {}
    for draft in open_drafts(session, guide.id):
        drafts.setdefault(draft.module_id, []).append(draft)
    rows = []
    for module in guide.modules:
        version = live_version(session, workspace, guide.id, module.id)
        rows.append(
            {
                "guide": guide.id,
                "module": module.id,
                "title": module.original.title,
                "live_version": version.id if version else None,
                "languages": list(module.texts),
                "lix": {lang: round(lix(text.body), 1) for lang, text in module.texts.items()},
                "drafts": [_draft_row(d) for d in drafts.pop(module.id, [])],
            }
        )
    for module_id, new in drafts.items():  # drafts of modules not live yet
        rows.append(
            {
                "guide": guide.id,
                "module": module_id,
                "title": module_id,
                "live_version": None,
                "languages": [],
                "lix": {},
                "drafts": [_draft_row(d) for d in new],
            }
        )
    return rows


def _draft_row(draft: EditorDraft) -> dict[str, Any]:
    return {
        "id": draft.id,
        "language": draft.language,
        "state": draft.state,
        "state_label": STATE_LABELS.get(draft.state, draft.state),
        "retire": draft.retire,
        "author": draft.author.email,
        "problems": len(draft.problems or []),
        "errors": sum(1 for p in draft.problems or [] if p.get("severity") == "error"),
        "lix": round(body_lix(draft.source), 1) if draft.source else None,
    }


def versions_of(
    session: DbSession, guide_id: str, module_id: str, live_id: int | None
) -> list[dict[str, Any]]:
    """Return every stored version of a module, oldest first, with who published it and why."""
    versions = session.scalars(
        select(ModuleVersion)
        .where(ModuleVersion.guide_id == guide_id, ModuleVersion.module_id == module_id)
        .order_by(ModuleVersion.id)
    ).all()
    publications: dict[int, ModulePublication] = {}
    for row in session.scalars(
        select(ModulePublication)
        .where(ModulePublication.guide_id == guide_id, ModulePublication.module_id == module_id)
        .order_by(ModulePublication.id)
    ):
        if row.version_id is not None:
            publications[row.version_id] = row
    rows = []
    for version in versions:
        publication = publications.get(version.id)
        rows.append(
            {
                "version": version.id,
                "content_hash": version.content_hash,
                "created_at": version.created_at.isoformat(),
                "published_at": publication.published_at.isoformat() if publication else None,
                "origin": publication.origin if publication else "sync",
                "author": publication.author.email if publication and publication.author else None,
                "reviewer": (
                    publication.reviewer.email if publication and publication.reviewer else None
                ),
                "comment": publication.comment if publication else "",
                "live": version.id == live_id,
                "title": next(iter(version.texts.values()))["title"],
            }
        )
    return rows


@dataclass(frozen=True)
class Diff:
    source: list[Piece]
    rendered: list[Piece]
    old_label: str
    new_label: str

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.old_label,
            "to": self.new_label,
            "changed": changed(self.source),
            "source": [{"op": p.op, "text": p.text} for p in self.source],
            "rendered": [{"op": p.op, "text": p.text} for p in self.rendered],
        }

    def html(self, removed: str, added: str) -> tuple[Markup, Markup]:
        return diff_html(self.source, removed, added), diff_html(self.rendered, removed, added)


def version_source(session: DbSession, version: ModuleVersion, filename: str | None = None) -> str:
    """Return a version's files as one text (or one file of it)."""
    files = version_sources(session, version)
    if filename is not None:
        return files.get(filename) or synthesized_source(version)
    if not files:
        return synthesized_source(version)
    return "\n".join(text for _, text in sorted(files.items(), key=lambda f: (len(f[0]), f[0])))


def _rendered(workspace: Workspace, body: str) -> str:
    return render_plain(body, {}, workspace.library.local_facts)


def _body(source: str) -> str:
    return body_of(source)


def version_diff(
    session: DbSession,
    workspace: Workspace,
    old: ModuleVersion,
    *,
    new: ModuleVersion | None = None,
    draft: EditorDraft | None = None,
) -> Diff:
    """Diff two versions, or a draft against a version, word by word: source and rendered text."""
    if draft is not None:
        name = draft_filename(workspace, draft)
        old_source = version_source(session, old, name)
        new_source = draft.source
        new_label = f"utkast {draft.id}"
    else:
        assert new is not None
        old_source = version_source(session, old)
        new_source = version_source(session, new)
        new_label = f"version {new.id}"
    return Diff(
        source=word_diff(old_source, new_source),
        rendered=word_diff(
            _rendered(workspace, _body(old_source)), _rendered(workspace, _body(new_source))
        ),
        old_label=f"version {old.id}",
        new_label=new_label,
    )


@dataclass(frozen=True)
class Preview:
    title: str
    html: Markup
    lix: float
    problems: tuple[FileProblem, ...]


def preview_source(
    session: DbSession,
    workspace: Workspace,
    *,
    guide_id: str,
    module_id: str,
    file_language: str,
    source: str,
    organisation_id: int | None,
    language: str,
) -> Preview:
    """Render a module file as a relative of the organisation (None: national fallbacks) sees it.

    The text is checked as `guide content check` would; the preview shows even when the
    check finds errors, from the file's own body.
    """
    problems, module = check_draft_source(
        session, workspace, guide_id, module_id, file_language, source
    )
    values = local_values(session, organisation_id) if organisation_id else {}
    if module is not None:
        text = module.text(language)
        title, body = text.title, text.body
    else:
        title, body = module_id, body_of(source)
    html = render_markdown(body, values, workspace.library.local_facts, lambda _target: None)
    return Preview(title, html, round(lix(body), 1), problems)
