"""The editors' pages: edit with the checker and a preview, four eyes, conflicts, versions and diff."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guide.extensions import db
from guide.models import EditorDraft, LocalFactValue, StaffRole, StaffUser
from guide.services.accounts import create_staff
from tests.checkin_support import log_in_staff
from tests.conftest import FIXTURE_CONTENT
from tests.factories import PASSWORD, Tenant, enrol, issue_cards, make_tenant

VALKOMMEN = (FIXTURE_CONTENT / "stod" / "modules" / "valkommen.md").read_text(encoding="utf-8")
EDITED = VALKOMMEN.replace("Hej och välkommen.", "Hej och varmt välkommen.")


@pytest.fixture
def tenant(app: Flask) -> Tenant:
    return make_tenant()


@pytest.fixture
def editors(tenant: Tenant) -> tuple[StaffUser, StaffUser]:
    pair = tuple(
        create_staff(
            db.session, f"{n}@redaktion.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
        )
        for n in ("anna", "bo")
    )
    db.session.commit()
    return pair  # type: ignore[return-value]


def as_editor(app: Flask, editor: StaffUser) -> FlaskClient:
    client = app.test_client()
    log_in_staff(client, editor)
    return client


def edit_url() -> str:
    return "/redaktion/stod/valkommen/redigera?sprak=sv"


def base_of(page: str) -> str:
    match = re.search(r'name="base_version" value="(\d*)"', page)
    assert match
    return match.group(1)


def test_the_home_page_lists_modules_with_live_version_and_lix_and_no_relative(
    app: Flask, tenant: Tenant, editors: tuple[StaffUser, StaffUser]
) -> None:
    enrol(issue_cards(tenant.unit)[0], "hemlig.anhorig@example.se")
    db.session.commit()
    page = as_editor(app, editors[0]).get("/redaktion/").get_data(as_text=True)
    assert "Stöd för anhöriga" in page and "valkommen" in page and "version " in page
    assert "LIX" in page
    assert "hemlig.anhorig" not in page


def test_preview_without_javascript_shows_the_organisations_facts_and_the_problems(
    app: Flask, tenant: Tenant, editors: tuple[StaffUser, StaffUser]
) -> None:
    db.session.add(
        LocalFactValue(
            organisation_id=tenant.organisation.id, key="anhorigstod.telefon", value="042-10 50 00"
        )
    )
    db.session.commit()
    client = as_editor(app, editors[0])
    page = client.get(edit_url()).get_data(as_text=True)
    assert "Hej och välkommen." in page and "Ring din kommuns växel" in page  # the fallback
    broken = EDITED.replace("release: {after: 0d}", "release: {after: 0d}\nordning: 3")
    shown = client.post(
        edit_url(),
        data={
            "source": broken,
            "base_version": base_of(page),
            "action": "preview",
            "organisation": str(tenant.organisation.id),
            "preview_language": "sv",
        },
    ).get_data(as_text=True)
    assert "Hej och varmt välkommen." in shown and "042-10 50 00" in shown
    assert "rad 6, fält ordning" in shown and "unknown field" in shown
    assert db.session.query(EditorDraft).count() == 0  # a preview saves nothing


def test_edit_submit_approve_by_another_and_publish_through_the_pages(
    app: Flask, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = as_editor(app, editors[0]), as_editor(app, editors[1])
    page = anna.get(edit_url()).get_data(as_text=True)
    saved = anna.post(
        edit_url(), data={"source": EDITED, "base_version": base_of(page), "action": "save"}
    )
    assert saved.status_code == 302
    draft_url = saved.headers["Location"]
    draft_id = int(draft_url.rstrip("/").rsplit("/", 1)[1])
    assert anna.post(f"/redaktion/utkast/{draft_id}/skicka").status_code == 302
    own = anna.post(f"/redaktion/utkast/{draft_id}/granska", data={"decision": "approve"})
    assert own.status_code == 403
    assert "Du kan inte granska ditt eget utkast" in own.get_data(as_text=True)
    review_page = bo.get(draft_url).get_data(as_text=True)
    assert "Godkänn" in review_page
    assert (
        bo.post(f"/redaktion/utkast/{draft_id}/granska", data={"decision": "approve"}).status_code
        == 302
    )
    assert bo.post(f"/redaktion/utkast/{draft_id}/publicera").status_code == 302
    versions = anna.get("/redaktion/stod/valkommen/versioner").get_data(as_text=True)
    assert "anna@redaktion.se" in versions and "bo@redaktion.se" in versions
    ids = [int(v) for v in re.findall(r'name="fran" value="(\d+)"', versions)]
    diff = anna.get(f"/redaktion/stod/valkommen/jamfor?fran={ids[0]}&till={ids[-1]}").get_data(
        as_text=True
    )
    assert "<ins>" in diff and "varmt" in diff and "tillagt" in diff


def test_saving_over_a_newer_version_shows_both_texts_and_saves_nothing(
    app: Flask, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = as_editor(app, editors[0]), as_editor(app, editors[1])
    old_base = base_of(bo.get(edit_url()).get_data(as_text=True))
    first = anna.post(
        edit_url(), data={"source": EDITED, "base_version": old_base, "action": "save"}
    )
    draft_id = int(first.headers["Location"].rsplit("/", 1)[1])
    anna.post(f"/redaktion/utkast/{draft_id}/skicka")
    bo.post(f"/redaktion/utkast/{draft_id}/granska", data={"decision": "approve"})
    bo.post(f"/redaktion/utkast/{draft_id}/publicera")
    mine = VALKOMMEN.replace("korta texter", "små texter")
    conflict = bo.post(
        edit_url(), data={"source": mine, "base_version": old_base, "action": "save"}
    )
    assert conflict.status_code == 409
    text = conflict.get_data(as_text=True)
    assert "små texter" in text and "Hej och varmt välkommen." in text
    assert db.session.query(EditorDraft).count() == 1


def test_restoring_an_old_version_makes_a_new_draft(
    app: Flask, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = as_editor(app, editors[0]), as_editor(app, editors[1])
    base = base_of(anna.get(edit_url()).get_data(as_text=True))
    made = anna.post(edit_url(), data={"source": EDITED, "base_version": base, "action": "save"})
    draft_id = int(made.headers["Location"].rsplit("/", 1)[1])
    anna.post(f"/redaktion/utkast/{draft_id}/skicka")
    bo.post(f"/redaktion/utkast/{draft_id}/granska", data={"decision": "approve"})
    bo.post(f"/redaktion/utkast/{draft_id}/publicera")
    restored = bo.post(f"/redaktion/version/{base}/aterstall")
    assert restored.status_code == 302
    draft = db.session.query(EditorDraft).order_by(EditorDraft.id.desc()).first()
    assert draft is not None and draft.state == "utkast" and draft.author_id == editors[1].id
    assert "Hej och välkommen." in draft.source


def test_the_simulator_page_shows_a_year_without_javascript(
    app: Flask, editors: tuple[StaffUser, StaffUser]
) -> None:
    client = as_editor(app, editors[0])
    page = client.post(
        "/redaktion/simulera?guide=stod",
        data={
            "p-bor-ihop": "yes",
            "script": "hur-gar-det: ork=1\nhur-gar-det: ork=4",
            "start_phase": "start",
            "include_drafts": "1",
        },
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "avlosning" in text and "e-post" in text and "Med utkasten" in text
    bad = client.post("/redaktion/simulera?guide=stod", data={"script": "utan kolon"})
    assert bad.status_code == 400 and "Rad 1" in bad.get_data(as_text=True)


def test_an_editor_lands_in_the_editors_workspace_after_logging_in(
    app: Flask, editors: tuple[StaffUser, StaffUser]
) -> None:
    client = app.test_client()
    answer = client.post(
        "/personal/logga-in", data={"email": "anna@redaktion.se", "password": PASSWORD}
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/redaktion/")
