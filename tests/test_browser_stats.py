"""The statistics page in headless Chromium: axe-core finds no violation, keyboard and charts work.

Runs when Debian's chromium and axe-core are installed; with GUIDE_REQUIRE_BROWSER set
(CI) a missing one is a failure. Install axe-core as the CI does:

    npm install --prefix tests/axe --no-save --no-package-lock --no-audit --no-fund axe-core@4.10.3
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from guide.models import ConsentPurpose
from tests.conftest import at
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant
from tests.test_browser import CHROMIUM, SHOTS, app, http_server, live_server  # noqa: F401

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or not AXE.exists()) and not os.environ.get("GUIDE_REQUIRE_BROWSER"),
    reason="Debian's chromium or axe-core (tests/axe) is not installed",
)
ISSUED = at("2026-05-04 10:00")


@pytest.fixture
def page(live_server):  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import sync_playwright

    assert AXE.exists(), "GUIDE_REQUIRE_BROWSER is set but axe-core is not in tests/axe"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        # The app's Content-Security-Policy would refuse the injected axe script.
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="sv-SE", bypass_csp=True
        )
        yield context.new_page()
        browser.close()


def _axe_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
          return r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
        }"""
    )
    return list(result)


def test_the_statistics_page_has_no_axe_violations_and_reads_without_script(
    page: Any,
    live_server: str,  # noqa: F811
) -> None:
    tenant = make_tenant()
    consents = {purpose: True for purpose in ConsentPurpose}
    for n, card in enumerate(issue_cards(tenant.unit, 9, now=ISSUED)):
        if n < 7:
            enrol(card, f"a{n}@example.se", now=ISSUED + timedelta(days=1), consents=consents)
    issue_cards(tenant.other_unit, 2, now=ISSUED)
    page.goto(f"{live_server}/personal/logga-in")
    page.fill("#email", tenant.admin.email)
    page.fill("#password", PASSWORD)
    # The login form's own button: every page also has the language switch's.
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "logga-in" not in url)
    page.goto(f"{live_server}/admin/statistik/?fran=2026-05&till=2026-05")
    assert page.locator("h1").inner_text() == "Statistik"
    charts = page.locator("svg[role=img]")
    assert charts.count() == 3
    assert page.locator("svg[role=img] title").first.text_content()
    assert page.get_by_role("img", name="Utdelade och aktiverade kort").count() == 1
    assert "<5" in page.locator("table").nth(1).inner_text()
    assert _axe_violations(page) == []
    # By keyboard: the first field of the filter form is reachable and the form submits.
    page.focus("#fran")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "/admin/statistik/" in page.url and "fran=2026-05" in page.url
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "statistik.png"), full_page=True)
