"""The follow-up queue in a real headless Chromium: an overdue call, by keyboard, axe clean.

Uses the browser fixtures of tests/test_browser.py (Debian's chromium, never a browser
download) and axe-core from tests/axe when it is installed there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from guide.extensions import db
from guide.models import Alert
from guide.services.contact_person import save_profile
from guide.services.library import current_library
from scheduler.jobs import release_due
from tests import test_browser as browser
from tests.conftest import TESTS
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant
from tests.test_followup_calls import ACTIVATED, CALL_DUE, FOLLOWUP_CONTENT

# The browser fixtures of tests/test_browser.py, used here as there.
CHROMIUM, shot, pytestmark = browser.CHROMIUM, browser.shot, browser.pytestmark
http_server, app, live_server = browser.http_server, browser.app, browser.live_server
AXE = TESTS / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def content_dir() -> Path:
    return FOLLOWUP_CONTENT


@pytest.fixture
def page(live_server):  # type: ignore[no-untyped-def]
    """As tests/test_browser.py's, but axe's script may be added despite the page's CSP."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            viewport={"width": 1024, "height": 900}, locale="sv-SE", bypass_csp=True
        )
        yield context.new_page()
        browser.close()


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Run axe-core on the page; return each violation as 'rule: target'."""
    if not AXE.exists():
        if os.environ.get("GUIDE_REQUIRE_AXE"):
            pytest.fail(f"GUIDE_REQUIRE_AXE is set but {AXE} is missing; see tests/axe/README.md")
        return []
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    return [
        f"{v['id']}: {', '.join(str(n['target']) for n in v['nodes'])}"
        for v in result["violations"]
    ]


def expect(locator):  # type: ignore[no-untyped-def]
    """Playwright's waiting assertions: the page after a click may still be loading."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_staff_see_an_overdue_call_first_take_it_and_mark_it_contacted(
    app,
    live_server,
    page,  # type: ignore[no-untyped-def]
) -> None:
    tenant = make_tenant()
    save_profile(db.session, tenant.staff, "Karin", "Anhörigkonsulent", "Vardagar 9–11")
    db.session.commit()
    enrolment = enrol(issue_cards(tenant.unit, now=ACTIVATED)[0], "anna@example.se", now=ACTIVATED)
    release_due(db.session, current_library(), CALL_DUE)  # long before today: overdue now
    alert = db.session.scalars(select(Alert)).one()

    page.goto(f"{live_server}/personal/logga-in")
    page.get_by_label("E-postadress").fill(tenant.staff.email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/personal/kort")
    page.goto(f"{live_server}/personal/uppfoljning/")
    row = page.locator("tr.overdue")
    assert row.count() == 1
    assert "Försenat" in row.inner_text()  # in words, not colour alone
    assert "Uppföljningssamtal enligt guiden" in row.inner_text()
    # Staff pages are wider than a relative's: on a 1280 px screen, and on a small
    # laptop's 1024, the queue shows every column (who has the case, its status)
    # without scrolling sideways; lines of text stay short enough to read.
    table = page.locator(".table-scroll").first
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        assert table.evaluate("e => e.scrollWidth <= e.clientWidth"), width
    assert page.locator("main > p").first.evaluate(
        "e => e.getBoundingClientRect().width <= 46 * parseFloat(getComputedStyle(e).fontSize)"
    )
    assert axe_violations(page) == []
    shot(page, "uppfoljning-forsenat")

    # By keyboard: to the case, take it, note a try without answer, then contact.
    link = page.get_by_role("link", name=f"Ärende {alert.id}")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/personal/uppfoljning/{alert.id}")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Ta ärendet och bli kontaktperson").click()
    expect(page.get_by_text("Du har tagit ärendet")).to_be_visible()
    page.get_by_label("Anteckning Till exempel när du ringde.").fill("Ringde 10.15")
    page.get_by_role("button", name="Inget svar, försök igen").click()
    expect(page.get_by_text("Inget svar: Ringde 10.15")).to_be_visible()
    page.locator("#contacted-note").fill("Pratade en stund")
    page.get_by_role("button", name="Markera som kontaktad").click()
    expect(page.get_by_text("Ärendet är markerat som kontaktat.")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "arende-kontaktat")

    db.session.expire_all()
    done = db.session.get(Alert, alert.id)
    assert done is not None and done.first_contact_at is not None
    assert done.assigned_staff_id == tenant.staff.id
    assert enrolment.id == done.enrolment_id
