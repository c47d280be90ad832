"""Every page of every role, in Swedish and English, at 1280 and 390 px, checked by axe-core.

Each role walks its pages in Debian's Chromium (as tests/test_browser.py); on each page
state axe-core (the npm package `.ci/run` installs into tests/axe/) looks for WCAG 2.1
A/AA violations, and at 390 px the page may not be wider than the window. English
pages must not carry the Swedish interface words they once did.

Install axe-core locally as `.ci/run` does:
    npm install --prefix tests/axe --no-save --no-package-lock --no-audit --no-fund axe-core@4.10.3
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from guide.extensions import db
from guide.mail.delivery import deliver_due
from guide.mail.unsubscribe import unsubscribe_token
from guide.models import CapturedMail, StaffRole
from guide.models.base import utcnow
from guide.services.accounts import create_staff
from guide.services.contact import ContactRequest, request_contact
from guide.services.login import create_login_token
from guide.services.passwords import password_token
from tests import test_browser
from tests.checkin_support import checkin_opened_now
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant, sent_mail
from tests.test_browser import CHROMIUM, SHOTS

# The live server of tests/test_browser.py: the app behind a real HTTP server on loopback.
http_server = test_browser.http_server
app = test_browser.app
live_server = test_browser.live_server

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("GUIDE_REQUIRE_BROWSER"),
        reason="Debian's chromium is not installed",
    ),
    pytest.mark.skipif(
        not AXE.exists() and not os.environ.get("GUIDE_REQUIRE_BROWSER"),
        reason="axe-core is not installed (see this module's docstring)",
    ),
]
CONTENT = Path(__file__).parents[1] / "content"
WIDTHS = (1280, 390)
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOCALES = {"sv": "sv-SE", "en": "en-GB"}

# What English pages said in Swedish before the catalogue, and must never say again.
SWEDISH_WORDS = [
    "Steg",
    "Frivilligt",
    "Fortsätt",
    "Min guide",
    "Ja",
    "Nej",
    "Logga in",
    "Logga ut",
    "Kontakta mig",
    "Hoppa över",
    "Skicka",
    "Avsnitt",
    "Kort",
    "Spärra",
    "Ärende",
    "Uppföljning",
    "timmar",
]

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""

# The interface's own text: everything but what is marked as being in Swedish.
INTERFACE_TEXT = """() => {
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!element || element.closest("script, style, [hidden]")) continue;
    if (element.closest("[lang]").getAttribute("lang") !== "en") continue;
    parts.push(walker.currentNode.textContent);
  }
  for (const field of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
    if (field.closest("[lang]").getAttribute("lang") !== "en") continue;
    parts.push(field.getAttribute("placeholder") || "", field.getAttribute("aria-label") || "",
               field.getAttribute("title") || "");
  }
  return document.title + " " + parts.join(" ");
}"""


@pytest.fixture
def content_dir() -> Path:
    return CONTENT


@pytest.fixture
def app_environment() -> dict[str, str]:
    return {"GUIDE_DEMO": "1"}


@pytest.fixture
def browser(live_server) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


class Walk:
    """One identity in one language: visits pages and checks each state it reaches."""

    def __init__(self, browser: Any, base: str, language: str, name: str) -> None:
        # The app's Content-Security-Policy would refuse the injected axe script.
        self.context = browser.new_context(
            locale=LOCALES[language], bypass_csp=True, viewport={"width": 1280, "height": 900}
        )
        self.page = self.context.new_page()
        self.base = base
        self.language = language
        self.name = name
        self.problems: list[str] = []
        self.checked = 0

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None

    def check(self, label: str) -> None:
        """Check the page as it stands at every width: axe, overflow, language."""
        page = self.page
        assert page.evaluate("document.documentElement.lang") == self.language, label
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(30)
            if not page.evaluate("typeof axe !== 'undefined'"):
                page.add_script_tag(path=str(AXE))
                assert page.evaluate("axe.version") == "4.10.3"
            for violation in page.evaluate(AXE_RUN, WCAG_21_AA):
                self.problems.append(
                    f"{self.name}/{self.language}/{width}px {label} ({page.url}): "
                    f"{violation['id']} ({violation['impact']}): {violation['help']}\n    "
                    + "\n    ".join(violation["nodes"])
                )
            if width == 390:
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > 390:
                    wide = page.evaluate(
                        """() => [...document.querySelectorAll('body *')]
                           .filter(e => e.getBoundingClientRect().right > 391)
                           .filter(e => !e.closest('.table-scroll') || e.matches('.table-scroll'))
                           .slice(0, 3).map(e => e.tagName + '.' + e.className)"""
                    )
                    self.problems.append(
                        f"{self.name}/{self.language}/390px {label} ({page.url}): "
                        f"the page is {scroll}px wide: {wide}"
                    )
            if SHOTS:
                folder = Path(SHOTS) / "walk"
                folder.mkdir(parents=True, exist_ok=True)
                slug = re.sub(r"\W+", "-", label).strip("-")
                page.screenshot(
                    path=str(folder / f"{self.name}-{self.language}-{width}-{slug}.png"),
                    full_page=True,
                )
        if self.language == "en":
            text = page.evaluate(INTERFACE_TEXT)
            for word in SWEDISH_WORDS:
                if re.search(rf"(?<![\wåäöÅÄÖ]){re.escape(word)}(?![\wåäöÅÄÖ])", text):
                    self.problems.append(
                        f"{self.name}/en {label} ({page.url}): Swedish interface word {word!r}"
                    )
        page.set_viewport_size({"width": 1280, "height": 900})
        self.checked += 1

    def visit(self, path: str, label: str | None = None) -> None:
        self.goto(path)
        self.check(label or path)

    def submit(self, form: str) -> None:
        """Submit the form matched by CSS `form` with its first submit button."""
        with self.page.expect_navigation():
            self.page.locator(f"{form} [type=submit]").first.click()

    def staff_login(self, email: str) -> None:
        self.visit("/personal/logga-in", "staff login")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.submit("main form")

    def relative_login(self, token: str) -> None:
        self.visit(f"/logga-in/{token}", "login link")
        self.submit("main form")

    def switch_language(self) -> None:
        """Use the switch at the top of the page, as a person would."""
        with self.page.expect_navigation():
            self.page.locator(".language-switch button").click()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def world(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A tenant with cards, an enrolled relative with an open check-in and a case in the queue."""
    tenant = make_tenant()
    now = utcnow()
    cards = issue_cards(tenant.unit, count=3, guide="demenslots")
    enrolment = enrol(cards[0], email="anna@example.se", profile={"relation": "partner"})
    relative = enrolment.relative
    alert = request_contact(
        db.session,
        relative,
        enrolment,
        ContactRequest(phone="070-123 45 67", message="Ring gärna."),
        now,
    )
    editor = create_staff(
        db.session, "redaktor@kommunen.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
    )
    admin = create_staff(db.session, "admin@lots.se", StaffRole.ADMIN, None, None, PASSWORD)
    db.session.commit()
    deliver_due(db.session, utcnow())
    db.session.commit()
    sent_mail()
    mail_id = db.session.scalar(select(CapturedMail.id).order_by(CapturedMail.id))
    assert mail_id is not None
    return {
        "tenant": tenant,
        "card": cards[1],
        "enrolment": enrolment,
        "relative": relative,
        "open_checkin": lambda: checkin_opened_now(enrolment, "hur-orkar-du"),
        "alert": alert,
        "editor": editor,
        "admin": admin,
        "batch": cards[0].batch_id,
        "mail_id": mail_id,
        "unsubscribe": unsubscribe_token(relative),
        "set_password": password_token(editor),
        "token": lambda: _login_token(relative),
    }


def _login_token(relative: Any) -> str:
    token = create_login_token(db.session, relative, utcnow(), timedelta(minutes=30))
    db.session.commit()
    return token


def walk_anonymous(walk: Walk, world: dict[str, Any]) -> None:
    walk.visit("/", "home")
    walk.visit("/aktivera", "activate")
    walk.page.fill("#code", world["card"].code[:-1] + "Z" if world["card"].code[-1] != "Z" else "Y")
    walk.submit("main form")
    walk.check("activate: mistyped code")
    walk.visit(f"/aktivera?kod={world['card'].code}", "activate with the code filled in")
    walk.submit("main form")
    walk.check("activation questions")
    walk.submit("main form")
    walk.check("activation consent")
    walk.page.fill("#email", "ny@example.se")
    walk.submit("main form")
    walk.check("activation consent: consent missing")
    walk.visit("/logga-in", "login")
    walk.page.fill("#email", "nobody@example.se")
    walk.submit("main form")
    walk.check("login link sent")
    walk.visit(f"/logga-in/{world['token']()}", "login link")
    walk.visit(f"/avregistrera/{world['unsubscribe']}", "unsubscribe")
    walk.visit("/personal/logga-in", "staff login")
    walk.visit(f"/personal/losenord/{world['set_password']}", "set password")
    walk.visit("/finns-inte", "404")
    walk.visit("/inkorg/", "demo inbox")
    walk.visit(f"/inkorg/{world['mail_id']}", "demo inbox mail")


def walk_relative(walk: Walk, world: dict[str, Any]) -> None:
    enrolment, instance = world["enrolment"], world["open_checkin"]()
    walk.relative_login(world["token"]())
    if walk.language == "en":
        walk.page.wait_for_url("**/min-guide/**")
        walk.switch_language()
    walk.check("min guide")
    walk.visit(f"/min-guide/{enrolment.id}/valkommen", "module")
    walk.visit(f"/min-guide/{enrolment.id}/fragor/{instance.id}", "check-in")
    walk.visit("/min-guide/kontakta-mig", "contact form")
    walk.submit("main form")
    walk.check("contact form sent")
    walk.visit(f"/min-guide/{enrolment.id}/fragor/{instance.id}", "check-in again")
    walk.submit("main form")
    walk.check("check-in answered")
    walk.visit(f"/min-guide/{enrolment.id}/dina-svar", "your answers")
    walk.visit("/mina-installningar/", "my settings")
    walk.visit("/mina-installningar/radera", "erase: confirm")


def walk_card_worker(walk: Walk, world: dict[str, Any], email: str) -> None:
    walk.staff_login(email)
    walk.check("cards")
    walk.visit("/personal/kort?status=new", "cards filtered")
    walk.visit("/personal/kort/nya", "issue cards")
    walk.page.fill("#count", "")
    walk.submit("main form")
    walk.check("issue cards: count missing")
    walk.visit(f"/personal/omgang/{world['batch']}", "batch")
    walk.visit("/personal/uppfoljning/", "follow-up queue")
    walk.visit(f"/personal/uppfoljning/{world['alert'].id}", "follow-up case")
    walk.visit("/personal/uppfoljning/?visa=mina", "follow-up queue: mine")
    walk.visit("/personal/uppfoljning/min-profil", "contact person profile")
    walk.visit("/admin/statistik/", "statistics")


def walk_staff(walk: Walk, world: dict[str, Any]) -> None:
    walk_card_worker(walk, world, world["tenant"].staff.email)


def walk_org_admin(walk: Walk, world: dict[str, Any]) -> None:
    walk_card_worker(walk, world, world["tenant"].admin.email)
    walk.visit("/admin/e-post/", "mail problems")
    walk.visit("/admin/", "organisation admin")
    walk.visit("/admin/lokala-uppgifter/", "local facts")
    walk.visit("/admin/lokala-uppgifter/anhorigstod.telefon", "local fact")
    walk.visit("/admin/granskning/", "audit log")


def walk_editor(walk: Walk, world: dict[str, Any]) -> None:
    walk.staff_login(world["editor"].email)
    walk.check("editor landing")


def walk_admin(walk: Walk, world: dict[str, Any]) -> None:
    walk.staff_login(world["admin"].email)
    walk.check("admin landing")
    walk.visit("/admin/", "system admin")
    walk.visit("/personal/uppfoljning/", "follow-up queue")
    walk.visit("/admin/e-post/", "mail problems")


WALKS: dict[str, Callable[[Walk, dict[str, Any]], None]] = {
    "anonymous": walk_anonymous,
    "relative": walk_relative,
    "staff": walk_staff,
    "org_admin": walk_org_admin,
    "editor": walk_editor,
    "admin": walk_admin,
}


@pytest.mark.parametrize("role", list(WALKS))
def test_every_page_of_every_role_passes_axe_and_fits_a_phone(  # type: ignore[no-untyped-def]
    app, live_server, browser, world, role
) -> None:
    problems: list[str] = []
    checked = 0
    for language in ("sv", "en"):
        walk = Walk(browser, live_server, language, role)
        try:
            WALKS[role](walk, world)
        finally:
            walk.close()
        problems += walk.problems
        checked += walk.checked
    assert checked >= 2
    assert not problems, f"{len(problems)} problem(s) on {checked} page states:\n" + "\n".join(
        problems
    )
