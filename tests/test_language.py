"""Choosing the language: Accept-Language first, then the switch on every page (cookie or account)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from guide.extensions import LANGUAGE_COOKIE, db
from guide.mail.outbox import queue_message
from guide.mail.render import render_outbox_message
from guide.models.base import utcnow
from tests.checkin_support import KONTROLL_CONTENT, enrolled_now, log_in_relative


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def test_the_browser_language_is_the_first_guess(client: FlaskClient) -> None:
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    swedish = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Have you been given a card?" in english
    assert '<html lang="sv">' in swedish and "Har du fått ett kort?" in swedish


def test_every_page_offers_the_other_language_named_in_itself(client: FlaskClient) -> None:
    for path in ("/", "/aktivera", "/logga-in", "/personal/logga-in", "/finns-inte"):
        swedish = client.get(path, headers={"Accept-Language": "sv"}).get_data(as_text=True)
        english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert 'name="language" value="en" lang="en">In English</button>' in swedish, path
        assert 'name="language" value="sv" lang="sv">På svenska</button>' in english, path
        assert f'name="next" value="{path}"' in swedish, path


def test_a_visitors_choice_is_kept_in_a_cookie_and_beats_the_browser(client: FlaskClient) -> None:
    answer = client.post("/sprak", data={"language": "en", "next": "/aktivera?kod=DEM-1"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/aktivera?kod=DEM-1"
    cookie = client.get_cookie(LANGUAGE_COOKIE)
    assert cookie is not None and cookie.value == "en" and cookie.http_only

    page = client.get("/aktivera", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Activate your card" in page

    client.post("/sprak", data={"language": "sv", "next": "/"})
    page = client.get("/aktivera", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Aktivera ditt kort" in page


def test_the_switch_goes_back_only_to_a_page_of_this_site(client: FlaskClient) -> None:
    for foreign in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = client.post("/sprak", data={"language": "en", "next": foreign})
        assert answer.headers["Location"] == "/", foreign


def test_an_unknown_language_is_refused(client: FlaskClient) -> None:
    assert client.post("/sprak", data={"language": "de", "next": "/"}).status_code == 400
    assert client.get_cookie(LANGUAGE_COOKIE) is None


def test_the_switch_needs_the_forms_csrf_token(raw_client: FlaskClient) -> None:
    assert raw_client.post("/sprak", data={"language": "en", "next": "/"}).status_code == 400


def test_a_relatives_choice_is_stored_and_used_for_their_pages_and_mails(
    app, client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    relative = enrolment.relative
    assert relative.language == "sv"
    log_in_relative(client, relative)

    client.post("/sprak", data={"language": "en", "next": "/min-guide/"})
    db.session.expire_all()
    assert relative.language == "en"
    # Another browser of the same relative, which says Swedish, reads English too.
    page = client.get("/min-guide/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "My guide" in page and "Min guide" not in page

    message = queue_message(db.session, "login", relative, f"login-{relative.id}")
    assert message is not None
    db.session.commit()
    mail = render_outbox_message(db.session, message, utcnow())
    assert mail.subject == "Your login link"
    assert "Here is your login link" in mail.text and "inloggningslänk" not in mail.text
    assert "Here is your login link" in mail.html
