"""Local facts: the admin page and API, per-unit overrides, and values that never become markup."""

from __future__ import annotations

import html
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from activation_codes.cards_pdf import write_cards_pdf
from guide.extensions import db
from guide.mail.render import render_outbox_message
from guide.models import AuditLog, CardBatch, LocalFactValue, OutboxMessage, Release
from guide.models.base import utcnow
from guide.services.cards import printable_cards
from guide.services.library import current_library
from guide.services.local_facts import set_local_fact
from tests.checkin_support import log_in_relative, log_in_staff
from tests.factories import Tenant, enrol, issue_cards, make_tenant, staff_token

KEY = "anhorigstod.telefon"
FALLBACK = "Ring din kommuns växel och fråga efter anhörigstöd."
# What an admin might paste, on purpose or by mistake: none of it may become markup.
ATTEMPTS = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    "[klicka här](javascript:alert(1))",
    "**fet** _kursiv_ `kod`",
    "<a href='https://ond.example'>ring</a>",
    "javascript:alert(1)",
    "# Rubrik",
    '" onmouseover="alert(1)',
]


@pytest.fixture
def tenant(app: Flask) -> Tenant:
    return make_tenant()


def _set(tenant: Tenant, value: str, unit: object = None) -> None:
    set_local_fact(
        db.session,
        current_library(),
        tenant.organisation,
        KEY,
        value,
        utcnow(),
        tenant.admin,
        unit,  # type: ignore[arg-type]
    )
    db.session.commit()


def _module_page(
    client: FlaskClient, tenant: Tenant, unit: object = None, email: str = "a@example.se"
) -> str:
    card = issue_cards(unit or tenant.unit)[0]  # type: ignore[arg-type]
    enrolment = enrol(card, email)
    log_in_relative(client, enrolment.relative)
    page = client.get(f"/min-guide/{enrolment.id}/valkommen")
    assert page.status_code == 200, page.status_code
    return page.get_data(as_text=True)


def test_the_page_lists_every_declared_key_with_description_fallback_and_modules(
    client: FlaskClient, tenant: Tenant
) -> None:
    log_in_staff(client, tenant.admin)
    page = client.get("/admin/lokala-uppgifter/").get_data(as_text=True)
    for key, fact in current_library().local_facts.items():
        assert key in page and fact.description in page and fact.fallback in page
    detail = client.get(f"/admin/lokala-uppgifter/{KEY}").get_data(as_text=True)
    assert "Välkommen" in detail  # the module that uses it, and its preview
    assert FALLBACK in detail


def test_an_org_value_is_shown_in_modules_with_its_phone_number_as_a_tel_link(
    client: FlaskClient, tenant: Tenant
) -> None:
    log_in_staff(client, tenant.admin)
    answer = client.post(
        f"/admin/lokala-uppgifter/{KEY}",
        data={"value": "Anhörigstödet, 08-123 456 78, se www.kommunen.example/stod."},
    )
    assert answer.status_code == 302
    audit = db.session.scalar(select(AuditLog).where(AuditLog.target_type == "local_fact"))
    assert (
        audit is not None and audit.staff_user_id == tenant.admin.id and KEY in (audit.detail or "")
    )
    preview = client.get(f"/admin/lokala-uppgifter/{KEY}").get_data(as_text=True)
    assert 'href="tel:0812345678"' in preview
    relative = client.application.test_client()
    page = _module_page(relative, tenant)
    assert '<a href="tel:0812345678" rel="noopener noreferrer">08-123 456 78</a>' in page
    assert 'href="https://www.kommunen.example/stod"' in page
    assert FALLBACK not in page


def test_a_relative_sees_the_values_of_the_unit_that_issued_their_card(
    client: FlaskClient, tenant: Tenant
) -> None:
    _set(tenant, "Organisationens värde")
    _set(tenant, "Psykiatrins eget värde", tenant.other_unit)
    own = _module_page(client.application.test_client(), tenant, tenant.unit, "a@example.se")
    other = _module_page(
        client.application.test_client(), tenant, tenant.other_unit, "b@example.se"
    )
    assert "Organisationens värde" in own and "Psykiatrins eget värde" not in own
    assert "Psykiatrins eget värde" in other and "Organisationens värde" not in other
    elsewhere = make_tenant("grannkommunen")
    theirs = _module_page(client.application.test_client(), elsewhere, None, "c@example.se")
    assert FALLBACK in theirs and "värde" not in theirs


def test_clearing_a_value_brings_the_fallback_back_and_is_audited(
    client: FlaskClient, tenant: Tenant
) -> None:
    _set(tenant, "Ett värde")
    _set(tenant, "   ")
    assert db.session.scalar(select(LocalFactValue)) is None
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["local_fact_set", "local_fact_cleared"]
    assert FALLBACK in _module_page(client, tenant)


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_markup_typed_into_a_value_stays_text_in_modules(
    client: FlaskClient, tenant: Tenant, attempt: str
) -> None:
    _set(tenant, f"Före {attempt} efter")
    page = _module_page(client, tenant)
    body = page[page.index("Du kan ringa") :].split("Läs också", 1)[0]
    assert set(re.findall(r"<\s*([a-zA-Z0-9]+)", body)) <= {"a"}
    assert all(h.startswith(("tel:", "https://")) for h in re.findall(r'href="([^"]*)"', body))
    assert f"Före {attempt} efter" in html.unescape(re.sub(r"<[^>]+>", "", body))


def test_markup_typed_into_a_value_stays_text_in_mails(client: FlaskClient, tenant: Tenant) -> None:
    attempt = "<b>fet</b> [länk](javascript:alert(1)) <script>x</script>"
    _set(tenant, attempt)
    card = issue_cards(tenant.unit)[0]
    enrolment = enrol(card, "mail@example.se")
    enrolment.relative.full_text_email = True
    release = db.session.scalar(select(Release).where(Release.enrolment_id == enrolment.id))
    assert release is not None and release.module_id == "valkommen"
    message = OutboxMessage(
        idempotency_key="probe-notice",
        kind="notice",
        relative_id=enrolment.relative_id,
        enrolment_id=enrolment.id,
        recipient="mail@example.se",
        payload={"releases": [release.id], "checkins": []},
    )
    db.session.add(message)
    db.session.commit()
    mail = render_outbox_message(db.session, message, utcnow())
    assert attempt in mail.text  # plain text: exactly what was typed
    assert "&lt;b&gt;fet&lt;/b&gt;" in mail.html and "<b>fet</b>" not in mail.html
    assert "<script>" not in mail.html and 'href="javascript' not in mail.html


def test_markup_in_a_units_card_contact_is_printed_as_text(tenant: Tenant) -> None:
    tenant.unit.contact = "<b>Ring</b> 08-123 456 78 <script>x</script>"
    db.session.commit()
    card = issue_cards(tenant.unit)[0]
    batch = db.session.get_one(CardBatch, card.batch_id)
    out = io.BytesIO()
    with db.session.no_autoflush:
        write_cards_pdf(printable_cards(db.session, current_library(), batch), out)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages)
    assert "<b>Ring</b> 08-123 456 78" in text


def test_the_api_lists_and_sets_values_for_the_organisation_and_a_unit(
    client: FlaskClient, tenant: Tenant
) -> None:
    headers = staff_token(tenant.admin)
    listed = client.get("/api/v1/local-facts", headers=headers).get_json()["facts"]
    assert [f["key"] for f in listed] == sorted(current_library().local_facts)
    assert listed[0]["fallback"] == FALLBACK and listed[0]["value"] is None
    assert listed[0]["modules"] == ["stod/valkommen"]
    answer = client.put(
        f"/api/v1/local-facts/{KEY}", json={"value": "Ring 010-123 45 67"}, headers=headers
    )
    assert answer.status_code == 200 and answer.get_json()["value"] == "Ring 010-123 45 67"
    answer = client.put(
        f"/api/v1/local-facts/{KEY}",
        json={"value": "Psykiatrin", "unit": "psykiatri"},
        headers=headers,
    )
    assert answer.status_code == 200
    fact = client.get("/api/v1/local-facts", headers=headers).get_json()["facts"][0]
    assert fact["value"] == "Ring 010-123 45 67" and fact["units"] == {"psykiatri": "Psykiatrin"}
    unknown = client.put("/api/v1/local-facts/finns.inte", json={"value": "x"}, headers=headers)
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "local_fact_unknown"
    elsewhere = make_tenant("grannkommunen")
    foreign_unit = client.put(
        f"/api/v1/local-facts/{KEY}",
        json={"value": "x", "unit": elsewhere.unit.slug + "-x"},
        headers=headers,
    )
    assert foreign_unit.status_code == 404
    too_long = client.put(f"/api/v1/local-facts/{KEY}", json={"value": "x" * 2001}, headers=headers)
    assert too_long.status_code == 400


def test_an_override_for_another_organisations_unit_is_refused_on_the_web(
    client: FlaskClient, tenant: Tenant
) -> None:
    elsewhere = make_tenant("grannkommunen")
    log_in_staff(client, tenant.admin)
    answer = client.post(
        f"/admin/lokala-uppgifter/{KEY}", data={"value": "x", "unit": str(elsewhere.unit.id)}
    )
    assert answer.status_code == 404
    assert db.session.scalar(select(LocalFactValue)) is None
