"""The loaded content library of a running app: the content folder, with what editors published.

The folder is read once at start. Editors publish in the browser; each publication
keeps the module's files, so every process (web workers, scheduler) rebuilds the
guides concerned when it sees a publication newer than the one it applied. The check
is one `max(id)` query, made once per request, and outside a request once per
database transaction (a batch of mail rendered together asks once).
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import MappingProxyType

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guide.content.loader import load_library
from guide.content.model import Guide, Library
from guide.content.workspace import Overrides, module_files, read_guides
from guide.extensions import db
from guide.models import ModulePublication
from guide.models.base import DbSession

log = logging.getLogger(__name__)


def init_library(app: Flask) -> None:
    """Load the content folder once; a broken library stops the app from starting."""
    library = load_library(Path(app.config["GUIDE_CONTENT_DIR"]))
    app.extensions["guide_library"] = library
    app.extensions["guide_library_files"] = library
    app.extensions["guide_library_mark"] = None


# Built once: each request asks it.
_NEWEST_PUBLICATION = select(func.max(ModulePublication.id))


def current_library() -> Library:
    """Return the live library: the folder with every publication up to now applied."""
    app = current_app
    session = db.session()  # the Session itself: the scoped proxy hides its transaction
    scope = _checking_scope(session)
    if scope is None or g.get("library_checked_in") is not scope:
        mark = session.scalar(_NEWEST_PUBLICATION)
        if mark != app.extensions["guide_library_mark"]:
            refresh_library(session)
        g.library_checked_in = _checking_scope(session)
    library: Library = app.extensions["guide_library"]
    return library


def _checking_scope(session: Session) -> object | None:
    """What one check for publications serves: a request, else a database transaction.

    Per request, so that the work of a request does not depend on how often it
    commits (an activation answers alike whatever the address's history).
    """
    if has_request_context():
        current: object = request._get_current_object()  # type: ignore[attr-defined]
        return current
    return session.get_transaction()


def library_changed() -> None:
    """Say that this transaction published: the next `current_library` looks again."""
    if has_app_context():
        g.pop("library_checked_in", None)


def folder_library() -> Library:
    """Return the library as the content folder held it when the app started."""
    library: Library = current_app.extensions["guide_library_files"]
    return library


def refresh_library(session: DbSession) -> Library:
    """Rebuild the live library from the folder and the latest publication of each module."""
    app = current_app
    content_dir = Path(app.config["GUIDE_CONTENT_DIR"])
    files_library: Library = app.extensions["guide_library_files"]
    mark = session.scalar(select(func.max(ModulePublication.id)))
    overrides = live_overrides(session, content_dir, files_library)
    guides = dict(files_library.guides)
    if overrides:
        result = read_guides(content_dir, overrides)
        for guide_id in overrides:
            if guide_id in result.library.guides and not [
                p for p in result.errors if f"/{guide_id}/" in p.path
            ]:
                guides[guide_id] = result.library.guides[guide_id]
            else:
                log.error(
                    "The published state of guide %s does not load; using its files", guide_id
                )
    library = Library(MappingProxyType(guides), files_library.local_facts)
    app.extensions["guide_library"] = library
    app.extensions["guide_library_mark"] = mark
    return library


def latest_publications(
    session: DbSession, guide_id: str | None = None
) -> dict[tuple[str, str], ModulePublication]:
    """Return the newest publication of each module: (guide, module) -> publication."""
    query = select(ModulePublication).order_by(ModulePublication.id)
    if guide_id is not None:
        query = query.where(ModulePublication.guide_id == guide_id)
    return {(p.guide_id, p.module_id): p for p in session.scalars(query)}


def live_overrides(
    session: DbSession, content_dir: Path, loaded: Library | None = None
) -> dict[str, Overrides]:
    """Return, per guide, the modules whose published files differ from the folder's.

    With `loaded` (the folder as the app read it at start) a module differs when its
    published version is not the one loaded; else the files on disk are compared.
    """
    overrides: dict[str, dict[str, dict[str, str] | None]] = {}
    for (guide_id, module_id), publication in latest_publications(session).items():
        wanted = None if publication.retired else dict(publication.sources)
        if loaded is not None:
            guide = loaded.guides.get(guide_id)
            module = guide.module(module_id) if guide and guide.has_module(module_id) else None
            have = module.content_hash if module else None
            differs = have != (publication.version.content_hash if publication.version else None)
        else:
            differs = (wanted or {}) != module_files(content_dir / guide_id, module_id)
        if differs:
            overrides.setdefault(guide_id, {})[module_id] = wanted
    return dict(overrides)


def get_guide(guide_id: str) -> Guide:
    return current_library().guide(guide_id)
