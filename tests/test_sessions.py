"""Sessions and tokens end when they should: logout everywhere, deactivation at once, expiry."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.config import config_from_environment
from guide.extensions import db
from guide.models import ApiToken, StaffUser
from guide.models.base import utcnow
from guide.services.accounts import deactivate_staff, issue_api_token
from guide.services.login import create_login_token
from tests.factories import PASSWORD, Tenant, enrol, issue_cards, make_tenant, staff_token


@pytest.fixture
def tenant(app: Flask) -> Tenant:
    return make_tenant()


def session_cookie(response) -> str:  # type: ignore[no-untyped-def]
    """The session cookie a response set, as a copy an attacker might have taken."""
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if "session" in cookie:
            return cookie["session"].value
    raise AssertionError("no session cookie was set")


def with_cookie(app: Flask, value: str) -> tuple[FlaskClient, dict[str, str]]:
    return app.test_client(use_cookies=False), {"Cookie": f"session={value}"}


def staff_log_in(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/personal/logga-in", data={"email": email, "password": password})


def test_a_relatives_cookie_copied_before_logout_is_refused_after_it(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    relative = enrol(issue_cards(tenant.unit)[0]).relative
    token = create_login_token(db.session, relative, utcnow(), timedelta(minutes=30))
    db.session.commit()
    copied = session_cookie(client.post(f"/logga-in/{token}"))
    thief, cookie = with_cookie(app, copied)
    assert thief.get("/min-guide/", headers=cookie).status_code == 200

    client.post("/logga-ut")

    assert thief.get("/min-guide/", headers=cookie).status_code == 302
    assert client.get("/min-guide/").status_code == 302


def test_a_staff_cookie_copied_before_logout_is_refused_after_it(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    staff_log_in(client, tenant.staff.email)
    copied = session_cookie(client.get("/personal/kort"))
    thief, cookie = with_cookie(app, copied)
    assert thief.get("/personal/kort", headers=cookie).status_code == 200

    client.post("/personal/logga-ut")

    refused = thief.get("/personal/kort", headers=cookie)
    assert refused.status_code == 302 and "/personal/logga-in" in refused.headers["Location"]


def test_deactivating_a_staff_account_ends_its_sessions_and_tokens_at_once(
    client: FlaskClient, tenant: Tenant
) -> None:
    staff_log_in(client, tenant.staff.email)
    headers = staff_token(tenant.staff)
    assert client.get("/personal/kort").status_code == 200
    assert client.get("/api/v1/cards", headers=headers).status_code == 200

    deactivate_staff(db.session, tenant.staff, utcnow())
    db.session.commit()

    assert client.get("/personal/kort").status_code == 302
    assert client.get("/api/v1/cards", headers=headers).status_code == 401
    again = staff_log_in(client, tenant.staff.email)
    assert again.status_code == 403
    assert "Ditt konto är avstängt" in again.get_data(as_text=True)


def test_guide_staff_deactivate_stops_the_account(app: Flask, tenant: Tenant) -> None:
    result = app.test_cli_runner().invoke(
        args=["staff", "deactivate", "--email", "personal@kommunen.se"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == "personal@kommunen.se"))
    assert staff.deactivated_at is not None
    refused = app.test_cli_runner().invoke(args=["staff", "token", "--email", staff.email])
    assert refused.exit_code != 0 and "deactivated" in refused.output


def test_an_api_token_can_revoke_itself(client: FlaskClient, tenant: Tenant) -> None:
    headers = staff_token(tenant.staff)
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/cards", headers=headers).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401


def test_a_relatives_token_can_revoke_itself(client: FlaskClient, tenant: Tenant) -> None:
    relative = enrol(issue_cards(tenant.unit)[0]).relative
    token = issue_api_token(db.session, utcnow(), relative_id=relative.id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me/journey", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me/journey", headers=headers).status_code == 401


def test_guide_staff_token_revoke_stops_every_token_of_the_account(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    first, second = staff_token(tenant.staff), staff_token(tenant.staff)
    other = staff_token(tenant.admin)
    result = app.test_cli_runner().invoke(
        args=["staff", "token", "--email", tenant.staff.email, "--revoke"]
    )
    assert result.exit_code == 0 and "Revoked 2" in result.output
    assert client.get("/api/v1/cards", headers=first).status_code == 401
    assert client.get("/api/v1/cards", headers=second).status_code == 401
    assert client.get("/api/v1/cards", headers=other).status_code == 200


def test_staff_tokens_expire_after_the_configured_days(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    result = app.test_cli_runner().invoke(args=["staff", "token", "--email", tenant.staff.email])
    assert result.exit_code == 0
    row = db.session.scalar(select(ApiToken).where(ApiToken.staff_user_id == tenant.staff.id))
    assert row.expires_at - row.created_at == timedelta(days=90)
    issued_long_ago = issue_api_token(db.session, utcnow() - timedelta(days=91), staff=tenant.staff)
    db.session.commit()
    old = {"Authorization": f"Bearer {issued_long_ago}"}
    assert client.get("/api/v1/cards", headers=old).status_code == 401


def test_the_staff_token_lifetime_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GUIDE_STAFF_TOKEN_DAYS", "14")
    assert config_from_environment(str(tmp_path))["GUIDE_STAFF_TOKEN_DAYS"] == 14


@pytest.mark.parametrize("token", ["ä" * 43, "x" * 43 + "\u2603", "a b c", "'; DROP TABLE x;--"])
def test_odd_tokens_are_refused_without_an_error(client: FlaskClient, token: str) -> None:
    response = client.get("/api/v1/me/journey", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    exchanged = client.post("/api/v1/auth/token", json={"login_token": token})
    assert exchanged.status_code == 400 and exchanged.get_json()["error"] == "login_link_invalid"
    assert client.post(f"/logga-in/{token}").status_code in (400, 404)
