"""Two editors in a real headless Chromium: edit, preview, submit, approve, publish; a relative sees it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from guide.extensions import db
from guide.models import Enrolment, StaffRole
from guide.services.accounts import create_staff
from tests import test_browser as browser
from tests.checkin_support import log_in_relative
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant

# The browser fixtures of tests/test_browser.py: a live server and a Chromium page.
app = browser.app
http_server = browser.http_server
live_server = browser.live_server
page = browser.page
pytestmark = browser.pytestmark
shot = browser.shot


def log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/personal/logga-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/redaktion/")


def test_edit_preview_submit_approve_publish_and_the_relative_sees_it_updated(
    app: Flask,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    tenant = make_tenant()
    for name in ("anna", "bo"):
        create_staff(
            db.session,
            f"{name}@redaktion.se",
            StaffRole.EDITOR,
            tenant.organisation,
            None,
            PASSWORD,
        )
    enrolment = enrol(issue_cards(tenant.unit)[0], "anhorig@example.se")
    db.session.commit()
    enrolment_id, relative = enrolment.id, enrolment.relative

    log_in(page, live_server, "anna@redaktion.se")
    shot(page, "redaktion-1-hem")
    page.get_by_role("link", name="Redigera valkommen på sv").click()
    source = page.get_by_label("Hela filen")
    text = source.input_value()
    source.fill(text.replace("Hej och välkommen.", "Hej och varmt välkommen."))
    page.get_by_role("button", name="Förhandsgranska").click()
    assert "Hej och varmt välkommen." in page.locator("#preview").inner_text()
    shot(page, "redaktion-2-forhandsgranskning")
    page.get_by_role("button", name="Spara utkast").click()
    page.wait_for_url("**/redaktion/utkast/*")
    draft_url = page.url
    page.get_by_role("button", name="Skicka på granskning").click()
    assert "Läge: granskas" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Godkänn").count() == 0  # never one's own
    page.get_by_role("button", name="Logga ut").click()

    log_in(page, live_server, "bo@redaktion.se")
    page.goto(draft_url)
    page.get_by_role("button", name="Godkänn").press("Enter")
    page.wait_for_load_state()
    shot(page, "redaktion-3-godkand")
    page.get_by_role("button", name="Publicera").click()
    page.wait_for_url("**/redaktion/")
    assert "publicerat som version" in page.locator(".messages").inner_text()

    client = app.test_client()
    log_in_relative(client, relative)
    assert db.session.scalar(select(Enrolment).where(Enrolment.id == enrolment_id))
    released = client.get(f"/min-guide/{enrolment_id}/valkommen").get_data(as_text=True)
    assert "har uppdaterats" in released and "Hej och välkommen." in released
    new_text = client.get(f"/min-guide/{enrolment_id}/valkommen?text=ny").get_data(as_text=True)
    assert "Hej och varmt välkommen." in new_text and "Du läser den nya texten" in new_text
    journey = client.get("/min-guide/").get_data(as_text=True)
    assert "Uppdaterad" in journey
