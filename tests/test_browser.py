"""The relative's first minutes and the staff card flow in a real headless Chromium.

Runs when Debian's chromium is installed (CI installs it and sets GUIDE_REQUIRE_BROWSER=1,
which turns a missing browser into a failure). Screenshots land in GUIDE_SCREENSHOTS if set.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from guide.extensions import db
from guide.models import Enrolment
from tests.factories import PASSWORD, issue_cards, make_tenant, sent_mail

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("GUIDE_REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed",
)
SHOTS = os.environ.get("GUIDE_SCREENSHOTS")


@pytest.fixture
def http_server(backend):  # type: ignore[no-untyped-def]
    """A real HTTP server on loopback; the app it serves is set by the `app` fixture."""
    if backend != "sqlite":
        pytest.skip("the browser flow is the same on every database")
    assert CHROMIUM, "GUIDE_REQUIRE_BROWSER is set but chromium is not installed"
    served: list[Flask] = []
    server = make_server("127.0.0.1", 0, lambda env, reply: served[0](env, reply), threaded=True)
    return server, served


@pytest.fixture
def app(make_app, http_server) -> Flask:  # type: ignore[no-untyped-def]
    """The app behind the server, its base URL the server's own address."""
    server, served = http_server
    served.append(make_app(GUIDE_BASE_URL=f"http://127.0.0.1:{server.server_port}"))
    return served[0]


@pytest.fixture
def live_server(app, http_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server, _ = http_server
    base = app.config["GUIDE_BASE_URL"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(live_server):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="sv-SE")
        yield context.new_page()
        browser.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_relative_activates_a_card_with_the_keyboard(app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    card = issue_cards(tenant.unit)[0]
    page.goto(f"{live_server}/aktivera?kod={card.code}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Hoppa till innehållet"
    code_field = page.get_by_label("Koden på ditt kort")
    assert code_field.input_value() == card.code  # filled in from the QR code's link
    shot(page, "1-aktivera")
    code_field.press("Enter")
    page.wait_for_url("**/aktivera/fragor")
    page.get_by_role("group", name="Vem är du för personen?").get_by_label("Partner").check()
    shot(page, "2-fragor")
    page.get_by_role("button", name="Fortsätt").press("Enter")
    page.wait_for_url("**/aktivera/samtycke")
    page.get_by_label("Din e-postadress").fill("anna@example.se")
    page.get_by_role("checkbox", name="Jag vill få guidens avsnitt").check()
    shot(page, "3-samtycke")
    page.get_by_role("button", name="Starta min guide").press("Enter")
    page.wait_for_url("**/min-guide/")
    assert page.get_by_role("heading", name="Min guide").is_visible()
    assert page.get_by_role("link", name="Välkommen").is_visible()
    shot(page, "4-min-guide")
    page.get_by_role("link", name="Välkommen").click()
    assert "Hej och välkommen" in page.locator("article").inner_text()
    shot(page, "5-avsnitt")
    with app.app_context():
        assert db.session.scalar(select(Enrolment)).profile == {"relation": "partner"}
        assert [m.recipient for m in sent_mail()] == ["anna@example.se"]


def test_a_mistyped_code_is_announced_next_to_the_field(app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    card = issue_cards(tenant.unit)[0]
    page.goto(f"{live_server}/aktivera")
    wrong = card.code[:-1] + ("A" if card.code[-1] != "A" else "B")
    page.get_by_label("Koden på ditt kort").fill(wrong)
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    assert "skrivfel" in alert.inner_text()
    field = page.get_by_label("Koden på ditt kort")
    assert field.get_attribute("aria-invalid") == "true"
    assert "code-error" in field.get_attribute("aria-describedby")
    shot(page, "6-skrivfel")


def test_staff_issue_cards_and_download_the_pdf(app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    page.goto(f"{live_server}/personal/logga-in")
    page.get_by_label("E-postadress").fill(tenant.staff.email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/personal/kort")
    page.get_by_role("link", name="Skapa nya kort").click()
    page.get_by_label("Antal kort").fill("16")
    shot(page, "7-skapa-kort")
    page.get_by_role("button", name="Skapa kort").click()
    assert page.get_by_role("heading", name="Omgång").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner kort för utskrift (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    shot(page, "8-omgang")
