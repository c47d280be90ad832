"""What a first visit tripped on (issue 15): card list, follow-up case, relative pages, inbox."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import force_locale

from guide.extensions import db
from guide.mail.delivery import deliver_due
from guide.models import Card, CardStatus
from guide.models.base import utcnow
from guide.services.contact import ContactRequest, request_contact
from guide.services.followup import raise_alert
from guide.web.helpers import phone_links, waited
from tests.checkin_support import log_in_relative, log_in_staff
from tests.factories import enrol, issue_cards, make_tenant, sent_mail


def test_a_wait_is_said_in_minutes_hours_or_days_in_both_languages(app) -> None:  # type: ignore[no-untyped-def]
    cases = {
        timedelta(minutes=6): ("efter 6 minuter", "after 6 minutes"),
        timedelta(seconds=20): ("efter 1 minut", "after 1 minute"),
        timedelta(hours=1, minutes=10): ("efter 1 timme", "after 1 hour"),
        timedelta(hours=30): ("efter 30 timmar", "after 30 hours"),
        timedelta(days=3, hours=2): ("efter 3 dagar", "after 3 days"),
    }
    for span, (swedish, english) in cases.items():
        with app.test_request_context(), force_locale("sv"):
            assert waited(span) == swedish
        with app.test_request_context(), force_locale("en"):
            assert waited(span) == english


def test_national_help_numbers_become_tel_links_and_the_rest_is_escaped() -> None:
    html = str(phone_links("Ring 112 eller 1177, Bris 116 111. <b>x</b>"))
    assert '<a href="tel:112">112</a>' in html
    assert '<a href="tel:1177">1177</a>' in html
    assert '<a href="tel:116111">116 111</a>' in html
    assert "&lt;b&gt;" in html


def test_the_card_list_shows_title_phase_and_expiry_and_asks_before_revoking(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    card = issue_cards(tenant.unit, phase="sedan", expires=utcnow().date() + timedelta(days=30))[0]
    log_in_staff(client, tenant.staff)
    listing = "/personal/kort?status=new&guide=stod"
    page = client.get(listing).get_data(as_text=True)
    assert "Stöd för anhöriga" in page and ">stod<" not in page
    assert ">Sedan<" in page  # the start phase
    assert str(card.expires_on.year) in page
    confirm = f"/personal/kort/{card.id}/sparra?next=/personal/kort?status%3Dnew%26guide%3Dstod"
    assert f'href="{confirm}"' in page  # a link to a question, not a button that revokes

    question = client.get(confirm).get_data(as_text=True)
    assert f"Spärra kortet {card.code}?" in question
    assert 'name="next" value="/personal/kort?status=new&amp;guide=stod"' in question
    db.session.expire_all()
    assert db.session.get(Card, card.id).status == CardStatus.NEW  # asking changed nothing

    answer = client.post(f"/personal/kort/{card.id}/sparra", data={"next": listing})
    assert answer.status_code == 302 and answer.headers["Location"] == listing
    db.session.expire_all()
    assert db.session.get(Card, card.id).status == CardStatus.REVOKED


def test_revoking_goes_back_only_to_the_card_list(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    card = issue_cards(tenant.unit)[0]
    log_in_staff(client, tenant.staff)
    answer = client.post(f"/personal/kort/{card.id}/sparra", data={"next": "https://evil.example/"})
    assert answer.headers["Location"] == "/personal/kort"


def test_the_start_phase_list_groups_each_guides_phases_for_the_script(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    log_in_staff(client, tenant.staff)
    page = client.get("/personal/kort/nya").get_data(as_text=True)
    assert '<optgroup label="Stöd för anhöriga" data-guide="stod">' in page
    assert "/static/issue.js" in page


def test_a_case_says_each_reason_once_and_offers_contacted_only_until_used(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    enrolment = enrol(issue_cards(tenant.unit)[0])
    now = utcnow()
    alert = raise_alert(
        db.session,
        enrolment,
        priority="normal",
        source="rule",
        reason="Anhörig vill bli kontaktad",
        now=now,
    )
    request_contact(
        db.session, enrolment.relative, enrolment, ContactRequest(phone="070-123 45 67"), now
    )
    db.session.commit()
    assert alert.reason == "Anhörig vill bli kontaktad"

    log_in_staff(client, tenant.staff)
    page = client.get(f"/personal/uppfoljning/{alert.id}").get_data(as_text=True)
    assert "Markera som kontaktad" in page
    client.post(f"/personal/uppfoljning/{alert.id}/kontaktad", data={"note": ""})
    page = client.get(f"/personal/uppfoljning/{alert.id}").get_data(as_text=True)
    assert "Markera som kontaktad" not in page
    assert "Stäng ärendet" in page
    assert re.search(r"\(efter \d+ minut(er)?\)", page)
    assert "timmar" not in page


def test_min_guide_shows_a_pending_contact_request(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    enrolment = enrol(issue_cards(tenant.unit)[0])
    log_in_relative(client, enrolment.relative)
    assert "Du bad om kontakt" not in client.get("/min-guide/").get_data(as_text=True)
    request_contact(
        db.session, enrolment.relative, enrolment, ContactRequest(phone="070-123 45 67"), utcnow()
    )
    db.session.commit()
    page = client.get("/min-guide/").get_data(as_text=True)
    assert "Du bad om kontakt" in page
    assert 'href="tel:112"' in page  # the footer's numbers are links


def test_a_used_code_links_to_login(app, client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    card = issue_cards(tenant.unit)[0]
    enrol(card)
    page = client.post("/aktivera", data={"code": card.code}).get_data(as_text=True)
    assert "har redan använts" in page
    assert '<p class="field-help"><a href="/logga-in">Logga in med din e-post</a></p>' in page


def test_the_inbox_shows_the_whole_html_mail_in_a_sandbox_of_its_own(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(GUIDE_DEMO="1")
    client = app.test_client()
    tenant = make_tenant()
    enrol(issue_cards(tenant.unit)[0], email="anna@example.se")
    deliver_due(db.session, utcnow())
    db.session.commit()
    mail = sent_mail()[0]
    page = client.get(f"/inkorg/{mail.id}").get_data(as_text=True)
    assert f'src="/inkorg/{mail.id}/html"' in page and "srcdoc" not in page
    html = client.get(f"/inkorg/{mail.id}/html")
    assert html.get_data(as_text=True) == mail.html_body
    assert html.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "style-src 'unsafe-inline'" in html.headers["Content-Security-Policy"]
    assert client.get("/inkorg/999999/html").status_code == 404
