"""`lang` right at every level: the page is in the interface's language, Swedish fallbacks say so."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from guide.content.model import Localised, Text
from guide.extensions import db
from tests.checkin_support import log_in_relative
from tests.factories import enrol, issue_cards, make_tenant


def test_a_text_says_which_language_it_fell_back_to() -> None:
    text = Text.of(sv="Början", en="Start")
    assert (text.get("en"), text.get("en").language) == ("Start", "en")
    only_swedish = Text.of(sv="Början")
    assert (only_swedish.get("en"), only_swedish.get("en").language) == ("Början", "sv")
    assert only_swedish.get("en", "sv").language == "sv"
    assert isinstance(only_swedish.get("en"), Localised)


def english_relative_page(client: FlaskClient, path: str = "/min-guide/") -> tuple[str, int]:
    tenant = make_tenant()
    enrolment = enrol(issue_cards(tenant.unit)[0], profile={"bor-ihop": "yes"})
    enrolment.relative.language = "en"
    db.session.commit()
    log_in_relative(client, enrolment.relative)
    return client.get(path.format(id=enrolment.id)).get_data(as_text=True), enrolment.id


def test_min_guide_in_english_marks_only_what_fell_back_to_swedish(app, client) -> None:  # type: ignore[no-untyped-def]
    page, enrolment_id = english_relative_page(client)
    assert '<html lang="en">' in page
    assert f'<h2 id="guide-{enrolment_id}">Support for relatives</h2>' in page
    assert 'You are now in: <span lang="sv">Början</span>' in page
    # The welcome module has a translation; the library's Avlösning has none.
    assert re.search(r'<a href="[^"]*/valkommen">Welcome</a>', page)
    assert re.search(r'<a href="[^"]*/avlosning" lang="sv">Avlösning</a>', page)
    assert '<span class="small" lang="sv">Du kan få hjälp' in page
    # The crisis text is translated: no mark.
    assert '<div class="wrap">If a life is in danger, call <a href="tel:112">112</a>.</div>' in page


def test_a_module_that_fell_back_is_marked_swedish_at_its_title_and_body(app, client) -> None:  # type: ignore[no-untyped-def]
    page, _ = english_relative_page(client, "/min-guide/{id}/avlosning")
    assert '<html lang="en">' in page
    assert '<h1 id="module-title" lang="sv">Avlösning</h1>' in page
    assert '<div class="module-body" lang="sv">' in page
    assert "Back to My guide" in page


def test_a_translated_module_carries_no_mark(app, client) -> None:  # type: ignore[no-untyped-def]
    page, _ = english_relative_page(client, "/min-guide/{id}/valkommen")
    assert '<h1 id="module-title">Welcome</h1>' in page
    assert '<div class="module-body">' in page
    assert "> I want to talk to someone</label>" in page


def test_a_swedish_page_marks_nothing_but_the_switch_to_english(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    enrolment = enrol(issue_cards(tenant.unit)[0], profile={"bor-ihop": "yes"})
    log_in_relative(client, enrolment.relative)
    for path in ("/min-guide/", f"/min-guide/{enrolment.id}/avlosning"):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="sv">' in page
        assert 'lang="sv"' not in page.replace('<html lang="sv">', ""), path
        assert re.findall(r'lang="(\w+)"', page).count("en") == 1, path  # "In English"
