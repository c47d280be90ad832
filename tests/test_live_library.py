"""The live library asks the database for new publications once per transaction."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event

from guide.extensions import db
from guide.services.library import current_library, folder_library
from tests.conftest import FIXTURE_CONTENT
from tests.test_editor_roundtrip import publish


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    target = tmp_path / "git-content"
    shutil.copytree(FIXTURE_CONTENT, target)
    return target


@pytest.fixture
def publication_checks(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "max(module_publication.id)" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def body_of_sedan() -> str:
    return current_library().guide("stod").module("sedan").original.body


def test_a_transaction_asks_for_new_publications_once_however_often_it_reads(
    app: Flask, publication_checks: list[str]
) -> None:
    db.session.commit()
    for _ in range(5):
        current_library()
    assert len(publication_checks) == 1
    db.session.commit()
    current_library()
    assert len(publication_checks) == 2


def test_what_another_process_published_is_read_in_the_next_transaction(
    app: Flask, content_dir: Path
) -> None:
    publish(app, content_dir, "sedan", "Nu börjar en ny tid.", "Nu börjar en annan tid.", False)
    assert "en annan tid" in body_of_sedan()
    # As a process that has not seen the publication: the folder's text, no mark.
    app.extensions["guide_library"] = folder_library()
    app.extensions["guide_library_mark"] = None
    assert "en annan tid" not in body_of_sedan()  # checked already in this transaction
    db.session.commit()
    assert "en annan tid" in body_of_sedan()


def test_a_publication_is_read_at_once_in_the_transaction_that_made_it(
    app: Flask, content_dir: Path
) -> None:
    db.session.commit()
    assert "en annan tid" not in body_of_sedan()
    publish(app, content_dir, "sedan", "Nu börjar en ny tid.", "Nu börjar en annan tid.", False)
    assert "en annan tid" in body_of_sedan()
