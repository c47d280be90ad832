"""What editors publish in the browser and the content folder in git: export, check, sync."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from guide.content.checker import check_content
from guide.extensions import db
from guide.models import ModulePublication, ModuleVersion, StaffRole
from guide.models.base import utcnow
from guide.services.accounts import create_staff
from guide.services.drafts import (
    Workspace,
    live_version,
    publish_draft,
    review_draft,
    save_draft,
    submit_draft,
)
from guide.services.library import current_library
from tests.conftest import FIXTURE_CONTENT
from tests.factories import PASSWORD, make_tenant


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    target = tmp_path / "git-content"
    shutil.copytree(FIXTURE_CONTENT, target)
    return target


def publish(
    app: Flask, content_dir: Path, module: str, old: str, new: str, commit: bool = True
) -> None:
    tenant = make_tenant()
    anna, bo = (
        create_staff(
            db.session, f"{n}@redaktion.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
        )
        for n in ("anna", "bo")
    )
    workspace = Workspace(current_library(), content_dir)
    source = (content_dir / "stod" / "modules" / f"{module}.md").read_text(encoding="utf-8")
    base = live_version(db.session, workspace, "stod", module)
    draft = save_draft(
        db.session,
        workspace,
        anna,
        guide_id="stod",
        module_id=module,
        source=source.replace(old, new),
        base_version_id=base.id if base else None,
        now=utcnow(),
    )
    submit_draft(db.session, draft, anna, utcnow())
    review_draft(db.session, draft, bo, "approve", "", utcnow())
    publish_draft(db.session, workspace, draft, bo, utcnow())
    if commit:
        db.session.commit()


def counts() -> tuple[int, int]:
    versions = db.session.scalar(select(func.count()).select_from(ModuleVersion)) or 0
    publications = db.session.scalar(select(func.count()).select_from(ModulePublication)) or 0
    return versions, publications


def live_hashes() -> dict[str, str]:
    return {m.id: m.content_hash for m in current_library().guide("stod").modules}


def test_export_check_sync_is_a_round_trip_that_changes_nothing(
    app: Flask, runner: FlaskCliRunner, content_dir: Path, tmp_path: Path
) -> None:
    assert runner.invoke(args=["content", "sync"]).exit_code == 0
    publish(app, content_dir, "sedan", "Nu börjar en ny tid.", "Nu börjar en annan tid.")
    before, hashes = counts(), live_hashes()
    out = tmp_path / "exported"
    exported = runner.invoke(args=["content", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "written: stod/sedan" in exported.output
    assert "en annan tid" in (out / "stod/modules/sedan.md").read_text(encoding="utf-8")
    assert [p for p in check_content(out) if p.severity == "error"] == []
    synced = runner.invoke(args=["content", "sync", str(out)])
    assert synced.exit_code == 0, synced.output
    assert "0 new version(s)" in synced.output
    assert counts() == before
    assert live_hashes() == hashes


def test_sync_of_files_older_than_what_editors_published_stops_and_names_the_module(
    app: Flask, runner: FlaskCliRunner, content_dir: Path
) -> None:
    assert runner.invoke(args=["content", "sync"]).exit_code == 0
    publish(app, content_dir, "sedan", "Nu börjar en ny tid.", "Nu börjar en annan tid.")
    before = counts()
    stale = runner.invoke(args=["content", "sync"])
    assert stale.exit_code != 0
    assert "stod/sedan" in stale.output and "guide content export" in stale.output
    assert counts() == before
    assert "en annan tid" in current_library().guide("stod").module("sedan").original.body


def test_after_the_export_is_synced_the_files_lead_again(
    app: Flask, runner: FlaskCliRunner, content_dir: Path
) -> None:
    publish(app, content_dir, "sedan", "Nu börjar en ny tid.", "Nu börjar en annan tid.")
    assert runner.invoke(args=["content", "export", str(content_dir)]).exit_code == 0
    assert runner.invoke(args=["content", "sync"]).exit_code == 0
    path = content_dir / "stod/modules/sedan.md"
    path.write_text(path.read_text(encoding="utf-8").replace("annan tid", "tredje tid"))
    synced = runner.invoke(args=["content", "sync"])
    assert synced.exit_code == 0, synced.output
    assert "new version: stod/sedan" in synced.output
    assert "tredje tid" in current_library().guide("stod").module("sedan").original.body


def test_starting_the_service_keeps_what_editors_published_and_names_it(
    app: Flask, runner: FlaskCliRunner, content_dir: Path
) -> None:
    from guide.services.library import folder_library
    from guide.services.versions import sync_module_versions

    publish(app, content_dir, "sedan", "Nu börjar en ny tid.", "Nu börjar en annan tid.")
    report = sync_module_versions(db.session, folder_library(), keep_published=True)
    assert report.kept_published == ("stod/sedan",)
    assert "en annan tid" in current_library().guide("stod").module("sedan").original.body
