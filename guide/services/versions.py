"""Store each module of the library as an immutable version keyed by its content hash."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from guide.content.model import Library, Module
from guide.models import ModuleVersion
from guide.models.base import DbSession


@dataclass(frozen=True)
class SyncReport:
    created: tuple[str, ...]
    unchanged: int


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


def sync_module_versions(session: DbSession, library: Library) -> SyncReport:
    """Add a version for every module whose content hash is not stored yet; never change one."""
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
            key = (guide.id, module.id, module.content_hash)
            if key in existing:
                unchanged += 1
                continue
            session.add(
                ModuleVersion(
                    guide_id=guide.id,
                    module_id=module.id,
                    content_hash=module.content_hash,
                    texts=module_texts(module),
                )
            )
            created.append(f"{guide.id}/{module.id}")
    session.flush()
    return SyncReport(tuple(created), unchanged)


def current_version(session: DbSession, module: Module) -> ModuleVersion | None:
    """Return the stored version matching the module as it is in the library now."""
    return session.scalar(
        select(ModuleVersion).where(
            ModuleVersion.guide_id == module.guide,
            ModuleVersion.module_id == module.id,
            ModuleVersion.content_hash == module.content_hash,
        )
    )
