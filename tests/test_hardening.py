"""The probe's low findings: throttling that spares the owner, same-origin redirects, no-store,
roles enforced for cards, and addresses checked by email-validator."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import Card, CardStatus, StaffRole
from guide.services.accounts import AccountError, create_staff, normalise_email
from tests.checkin_support import log_in_staff, relative_token
from tests.factories import PASSWORD, Tenant, enrol, issue_cards, make_tenant, staff_token


@pytest.fixture
def tenant(app: Flask) -> Tenant:
    return make_tenant()


def log_in(client: FlaskClient, email: str, password: str = PASSWORD, addr: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/personal/logga-in",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


# -- 7: throttling ------------------------------------------------------------------


def test_a_guesser_elsewhere_cannot_lock_the_owner_out(app: Flask, tenant: Tenant) -> None:
    owner = app.test_client()
    assert log_in(owner, tenant.staff.email, addr="10.0.0.1").status_code == 302
    owner.post("/personal/logga-ut")
    guesser = app.test_client()
    # Many clients guessing: the account's own loose limit fills up ...
    for n in range(60):
        log_in(guesser, tenant.staff.email, "fel-losenord-123", addr=f"10.9.{n // 4}.{n % 4}")
    assert log_in(app.test_client(), tenant.staff.email, addr="10.8.0.1").status_code == 429
    # ... but the owner's browser, which has logged in before, still gets in.
    assert log_in(owner, tenant.staff.email, addr="10.0.0.1").status_code == 302


def test_one_client_is_throttled_tightly_per_account(app: Flask, tenant: Tenant) -> None:
    client = app.test_client()
    statuses = [
        log_in(client, tenant.staff.email, "fel-losenord-123").status_code for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    # The same client may still log in to another account: the limit is per account and client.
    assert log_in(client, tenant.admin.email).status_code == 302


def test_a_forged_device_cookie_does_not_exempt_anyone(app: Flask, tenant: Tenant) -> None:
    client = app.test_client()
    client.set_cookie("lots_device", "forged", path="/personal/logga-in")
    for n in range(60):
        log_in(client, tenant.staff.email, "fel-losenord-123", addr=f"10.7.{n // 4}.{n % 4}")
    assert log_in(client, tenant.staff.email, addr="10.6.0.1").status_code == 429


# -- 8: redirects -------------------------------------------------------------------


@pytest.mark.parametrize(
    "referrer",
    [
        "https://evil.example/personal/kort",
        "//evil.example/personal/kort",
        "http://lots.test.evil.example/personal/kort",
        "javascript:alert(1)//personal/kort",
        "/personal/kort/../../\\\\evil.example",
    ],
)
def test_revoking_a_card_never_redirects_off_the_site(
    client: FlaskClient, tenant: Tenant, referrer: str
) -> None:
    card = issue_cards(tenant.unit)[0]
    log_in_staff(client, tenant.staff)
    response = client.post(f"/personal/kort/{card.id}/sparra", headers={"Referer": referrer})
    assert response.headers["Location"] == "/personal/kort"


def test_revoking_a_card_returns_to_the_filtered_list_it_came_from(
    client: FlaskClient, tenant: Tenant
) -> None:
    card = issue_cards(tenant.unit)[0]
    log_in_staff(client, tenant.staff)
    host = client.get("/personal/kort").request.host
    back = f"http://{host}/personal/kort?status=new&sida=2"
    response = client.post(f"/personal/kort/{card.id}/sparra", headers={"Referer": back})
    assert response.headers["Location"] == "/personal/kort?status=new&sida=2"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/personal/", "/min-guide/"]
)
def test_staff_login_goes_only_to_staff_pages_of_this_site(
    client: FlaskClient, tenant: Tenant, target: str
) -> None:
    response = client.post(
        f"/personal/logga-in?next={target}",
        data={"email": tenant.staff.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/personal/kort"


# -- 10: caching --------------------------------------------------------------------


def test_pages_and_api_answers_are_never_stored(client: FlaskClient, tenant: Tenant) -> None:
    relative = enrol(issue_cards(tenant.unit)[0]).relative
    log_in_staff(client, tenant.staff)
    for response in (
        client.get("/personal/kort"),
        client.get("/api/v1/cards", headers=staff_token(tenant.staff)),
        client.get("/api/v1/me/journey", headers=relative_token(relative)),
        client.get("/"),
        client.get("/finns-inte"),
    ):
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/static/style.css").headers.get("Cache-Control") != "no-store"


# -- 11: roles ----------------------------------------------------------------------


def test_an_editor_with_an_organisation_has_no_cards(client: FlaskClient, tenant: Tenant) -> None:
    editor = create_staff(
        db.session, "redaktor@kommunen.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
    )
    db.session.commit()
    card = issue_cards(tenant.unit)[0]
    log_in_staff(client, editor)
    assert client.get("/personal/kort").status_code == 403
    assert client.get("/personal/kort/nya").status_code == 403
    assert client.post(f"/personal/kort/{card.id}/sparra").status_code == 403
    headers = staff_token(editor)
    assert client.get("/api/v1/cards", headers=headers).status_code == 403
    issued = client.post(
        "/api/v1/cards", json={"unit": "anhorigstod", "guide": "stod", "count": 1}, headers=headers
    )
    assert issued.status_code == 403
    assert client.post(f"/api/v1/cards/{card.id}/revoke", headers=headers).status_code == 403


def test_unit_staff_see_and_revoke_only_their_units_cards(
    client: FlaskClient, tenant: Tenant
) -> None:
    own = issue_cards(tenant.unit)[0]
    other = issue_cards(tenant.other_unit)[0]
    headers = staff_token(tenant.staff)

    listed = client.get("/api/v1/cards", headers=headers).get_json()["cards"]
    assert [c["code"] for c in listed] == [own.code]
    log_in_staff(client, tenant.staff)
    page = client.get("/personal/kort").get_data(as_text=True)
    assert own.code in page and other.code not in page
    assert other.code not in client.get(f"/personal/kort?enhet={tenant.other_unit.id}").get_data(
        as_text=True
    )
    assert client.get(f"/personal/omgang/{other.batch_id}").status_code == 404
    assert client.post(f"/personal/kort/{other.id}/sparra").status_code == 404
    assert client.post(f"/api/v1/cards/{other.id}/revoke", headers=headers).status_code == 404
    assert client.post(f"/api/v1/cards/{own.id}/revoke", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(Card, other.id).status == CardStatus.NEW
    assert db.session.get(Card, own.id).status == CardStatus.REVOKED


def test_organisation_admins_see_and_revoke_every_unit_of_their_own(
    client: FlaskClient, tenant: Tenant
) -> None:
    own, other = issue_cards(tenant.unit)[0], issue_cards(tenant.other_unit)[0]
    elsewhere = issue_cards(make_tenant("grannkommunen").unit)[0]
    headers = staff_token(tenant.admin)
    codes = {c["code"] for c in client.get("/api/v1/cards", headers=headers).get_json()["cards"]}
    assert codes == {own.code, other.code}
    assert client.post(f"/api/v1/cards/{other.id}/revoke", headers=headers).status_code == 200
    assert client.post(f"/api/v1/cards/{elsewhere.id}/revoke", headers=headers).status_code == 404


def test_a_used_card_cannot_be_revoked_on_the_api(client: FlaskClient, tenant: Tenant) -> None:
    card = issue_cards(tenant.unit)[0]
    enrol(card)
    answer = client.post(f"/api/v1/cards/{card.id}/revoke", headers=staff_token(tenant.admin))
    assert answer.status_code == 409 and answer.get_json()["error"] == "card_used"
    assert db.session.scalar(select(Card.status).where(Card.id == card.id)) == "activated"


# -- 12: addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "<script>alert(1)</script>@x.se",
        "a@x.se>,<b@y.se",
        "a\r\nRCPT TO:<b@y.se>@x.se",
        '"quoted"@x.se',
        "anna@localhost",
        "anna@exempel",
        "anna@@x.se",
        "åsa@exempel.se",  # Flask-Mail cannot put a non-ASCII local part in RCPT TO
    ],
)
def test_addresses_that_are_not_addresses_are_refused(address: str) -> None:
    with pytest.raises(AccountError):
        normalise_email(address)


def test_addresses_are_normalised_for_lookup() -> None:
    assert normalise_email("  Anna.Svensson@Exempel.SE ") == "anna.svensson@exempel.se"
    assert normalise_email("anna@Örebro.se") == "anna@örebro.se"  # an IDN domain is fine


def test_a_script_address_is_refused_when_redeeming(client: FlaskClient, tenant: Tenant) -> None:
    card = issue_cards(tenant.unit)[0]
    response = client.post(
        "/api/v1/activations",
        json={"code": card.code, "email": "<script>@x.se", "consents": {"service": True}},
    )
    assert response.status_code == 400 and response.get_json()["error"] == "email_invalid"
