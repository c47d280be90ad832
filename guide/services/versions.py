"""Store each module of the library as an immutable version keyed by its content hash."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from guide.content.model import Library, Module
from guide.content.workspace import module_files, write_overrides
from guide.errors import GuideError
from guide.models import ModulePublication, ModuleVersion
from guide.models.base import DbSession
from guide.services.library import latest_publications, library_changed, live_overrides


@dataclass(frozen=True)
class SyncReport:
    created: tuple[str, ...]
    unchanged: int
    kept_published: tuple[str, ...] = ()  # editors published newer than these files


def module_texts(module: Module) -> dict[str, dict[str, object]]:
    """Return the stored shape of a module's texts: language -> title, summary, body, needs."""
    return {
        language: {
            "title": text.title,
            "summary": text.summary,
            "body": text.body,
            "needs": dict(text.needs),
        }
        for language, text in module.texts.items()
    }


class SyncConflict(GuideError):
    """The files are older than what editors published in the browser."""

    @classmethod
    def editors_published(cls, modules: list[str]) -> SyncConflict:
        names = ", ".join(modules)
        return cls(
            "sync_conflict",
            f"Redaktörer har publicerat nyare versioner av {names} i webbläsaren. "
            "Kör guide content export till din mapp först, lägg in ändringarna och "
            "synka sedan igen. Inget har ändrats.",
            409,
            modules=modules,
        )


def older_files(session: DbSession, library: Library) -> list[str]:
    """Name the modules where editors published something the files do not have.

    A publication counts as in the files once a sync has seen the same text; after that
    the files lead again.
    """
    latest = latest_publications(session)
    blocked = []
    for (guide_id, module_id), publication in latest.items():
        if publication.origin != "editor" or publication.in_files:
            continue
        guide = library.guides.get(guide_id)
        if guide is None:
            continue
        module = guide.module(module_id) if guide.has_module(module_id) else None
        published_hash = publication.version.content_hash if publication.version else None
        if (module.content_hash if module else None) == published_hash:
            publication.in_files = True
        else:
            blocked.append(f"{guide_id}/{module_id}")
    return sorted(blocked)


def sync_module_versions(
    session: DbSession, library: Library, *, keep_published: bool = False
) -> SyncReport:
    """Add a version for every module whose content hash is not stored yet; never change one.

    Refuses (SyncConflict) to go back behind what editors published in the browser;
    with `keep_published` (`guide serve` starting) such modules are left as published
    and named in the report instead.
    """
    behind = older_files(session, library)
    if behind and not keep_published:
        raise SyncConflict.editors_published(behind)
    latest = latest_publications(session)
    existing = {
        (guide, module, digest)
        for guide, module, digest in session.execute(
            select(ModuleVersion.guide_id, ModuleVersion.module_id, ModuleVersion.content_hash)
        )
    }
    created = []
    unchanged = 0
    for guide in library.guides.values():
        for module in guide.modules:
            if f"{guide.id}/{module.id}" in behind:
                continue
            key = (guide.id, module.id, module.content_hash)
            publication = latest.get((guide.id, module.id))
            if publication is not None and (
                publication.version is None
                or publication.version.content_hash != module.content_hash
            ):
                # Editors published before; the files now lead, so the live text follows them.
                version = _stored(session, module, key in existing)
                session.add(
                    ModulePublication(
                        guide_id=guide.id,
                        module_id=module.id,
                        version=version,
                        sources=module_files(Path(module.path).parent.parent, module.id),
                        origin="sync",
                        in_files=True,
                        comment="guide content sync",
                    )
                )
                created.append(f"{guide.id}/{module.id}")
                library_changed()
                continue
            if key in existing:
                unchanged += 1
                continue
            _stored(session, module, False)
            created.append(f"{guide.id}/{module.id}")
    session.flush()
    return SyncReport(tuple(created), unchanged, tuple(behind))


def _stored(session: DbSession, module: Module, exists: bool) -> ModuleVersion:
    if exists:
        found = current_version(session, module)
        assert found is not None
        return found
    version = ModuleVersion(
        guide_id=module.guide,
        module_id=module.id,
        content_hash=module.content_hash,
        texts=module_texts(module),
    )
    session.add(version)
    return version


def export_published(session: DbSession, content_dir: Path, target: Path) -> list[str]:
    """Write the content folder with every publication applied into `target`; return what changed.

    `target` may be the content folder itself: a team keeping content in git then
    commits what editors published in the browser.
    """
    if target.resolve() != content_dir.resolve():
        shutil.copytree(content_dir, target, dirs_exist_ok=True)
    written: list[str] = []
    for guide_id, modules in live_overrides(session, target).items():
        write_overrides(target / guide_id, modules)
        written.extend(f"{guide_id}/{module_id}" for module_id in modules)
    return sorted(written)


def current_version(session: DbSession, module: Module) -> ModuleVersion | None:
    """Return the stored version matching the module as it is in the library now."""
    return session.scalar(
        select(ModuleVersion).where(
            ModuleVersion.guide_id == module.guide,
            ModuleVersion.module_id == module.id,
            ModuleVersion.content_hash == module.content_hash,
        )
    )
