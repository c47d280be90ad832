"""The date question in a real headless Chromium: a native date field, read as a date.

Uses the browser fixtures of tests/test_browser.py (Debian's chromium; skipped when it
is not installed, a failure when GUIDE_REQUIRE_BROWSER is set).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from guide.extensions import db
from guide.models import Enrolment
from guide.models.base import utcnow
from tests import test_browser as browser
from tests.conftest import SHIPPED_CONTENT
from tests.factories import issue_cards, make_tenant

# The browser fixtures and the skip when chromium is missing, as in tests/test_browser.py.
pytestmark = browser.pytestmark
http_server = browser.http_server
app = browser.app
live_server = browser.live_server
page = browser.page
shot = browser.shot


@pytest.fixture
def content_dir() -> Path:
    return SHIPPED_CONTENT


def test_the_date_of_the_death_is_given_in_the_browsers_date_field(app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(make_tenant().unit, guide="efterlevande")[0]
    death = utcnow().astimezone(ZoneInfo("Europe/Stockholm")).date() - timedelta(days=40)
    page.goto(f"{live_server}/aktivera?kod={card.code}")
    page.get_by_label("Koden på ditt kort").press("Enter")
    page.wait_for_url("**/aktivera/fragor")
    field = page.get_by_label("Ungefär när dog hen?")
    assert field.get_attribute("type") == "date"
    assert "q-dodsdatum-hint" in field.get_attribute("aria-describedby")
    # Chromium orders the day, month and year parts by its own locale; fill sets the value
    # as the date picker does, in the form the browser sends (YYYY-MM-DD).
    field.fill(death.isoformat())
    assert field.input_value() == death.isoformat()
    shot(page, "datum-1-fragor")
    page.get_by_role("button", name="Fortsätt").press("Enter")
    page.wait_for_url("**/aktivera/samtycke")
    page.get_by_label("Din e-postadress").fill("bo@example.se")
    page.get_by_role("checkbox", name="Jag vill få guidens avsnitt").check()
    page.get_by_role("button", name="Starta min guide").press("Enter")
    page.wait_for_url("**/min-guide/")
    assert page.get_by_role("link", name="De första veckorna och månaderna").first.is_visible()
    shot(page, "datum-2-min-guide")
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment))
        assert enrolment is not None and enrolment.profile == {"dodsdatum": death.isoformat()}
        assert enrolment.current_phase == "forsta-tiden"
