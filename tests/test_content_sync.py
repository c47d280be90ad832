"""Published module versions are immutable and keyed by content hash."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from guide.content.loader import load_library
from guide.extensions import db
from guide.models import ModuleVersion
from guide.services.versions import sync_module_versions


def count_versions() -> int:
    return db.session.scalar(select(func.count()).select_from(ModuleVersion)) or 0


def test_sync_twice_changes_nothing(app, content_copy: Path) -> None:  # type: ignore[no-untyped-def]
    library = load_library(content_copy)
    first = sync_module_versions(db.session, library)
    assert len(first.created) == 4
    second = sync_module_versions(db.session, library)
    assert second.created == () and second.unchanged == 4
    assert count_versions() == 4


def test_changed_file_becomes_a_new_version_and_old_stays_readable(app, content_copy: Path) -> None:  # type: ignore[no-untyped-def]
    sync_module_versions(db.session, load_library(content_copy))
    path = content_copy / "stod/modules/sedan.md"
    path.write_text(path.read_text().replace("Nu börjar en ny tid.", "Nu börjar något nytt."))
    report = sync_module_versions(db.session, load_library(content_copy))
    assert report.created == ("stod/sedan",)
    versions = db.session.scalars(
        select(ModuleVersion).where(ModuleVersion.module_id == "sedan").order_by(ModuleVersion.id)
    ).all()
    assert [v.texts["sv"]["body"] for v in versions] == [
        "Nu börjar en ny tid.\n",
        "Nu börjar något nytt.\n",
    ]


def test_a_translation_change_is_a_new_version(app, content_copy: Path) -> None:  # type: ignore[no-untyped-def]
    sync_module_versions(db.session, load_library(content_copy))
    path = content_copy / "stod/modules/valkommen.en.md"
    path.write_text(path.read_text().replace("Hello and welcome.", "Hello, and welcome."))
    assert sync_module_versions(db.session, load_library(content_copy)).created == (
        "stod/valkommen",
    )


def test_sync_command_reports_new_versions(app, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "4 new version(s), 0 unchanged" in result.output
    assert "0 new version(s), 4 unchanged" in runner.invoke(args=["content", "sync"]).output
