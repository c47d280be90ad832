"""Links that leave the application come from GUIDE_BASE_URL in every context, prefix and proxy included."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from guide import create_app
from guide.extensions import db
from guide.mail.content import context_for
from guide.models import CapturedMail, OutboxMessage
from guide.services.cards import activation_url
from guide.urls import BaseUrl, BaseUrlError
from scheduler.jobs import deliver_outbox
from tests.conftest import at
from tests.factories import enrol, issue_cards, make_tenant

PREFIXED = "https://kommun.se/lots"
ACTIVATED = at("2026-05-04 13:20")


def test_a_link_built_outside_any_request_uses_the_base_url(app: Flask) -> None:
    # An app context and no request: what a command or a scheduler thread has.
    assert url_for("public.activate", kod="DEM-1") == "http://lots.test/aktivera?kod=DEM-1"
    assert activation_url("DEM-1") == "http://lots.test/aktivera?kod=DEM-1"


def test_links_keep_the_base_urls_path_prefix_outside_a_request(
    make_app: Callable[..., Flask],
) -> None:
    make_app(GUIDE_BASE_URL=PREFIXED)
    assert activation_url("DEM-1") == "https://kommun.se/lots/aktivera?kod=DEM-1"
    assert url_for("staff.login", _external=True) == "https://kommun.se/lots/personal/logga-in"


def test_an_external_link_inside_a_request_is_the_public_address_not_the_proxys(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(GUIDE_BASE_URL=PREFIXED)
    # The proxy passes the request on to an inside address with the prefix stripped.
    with app.test_request_context("/aktivera", base_url="http://10.0.0.5:8000"):
        assert activation_url("DEM-1") == "https://kommun.se/lots/aktivera?kod=DEM-1"
        assert url_for("public.activate", _external=True).startswith("https://kommun.se/lots/")


@pytest.mark.parametrize("path", ["/lots/aktivera", "/aktivera"])
def test_pages_are_served_under_the_prefix_whether_or_not_the_proxy_strips_it(
    make_app: Callable[..., Flask], path: str
) -> None:
    app = make_app(GUIDE_BASE_URL=PREFIXED)
    page = app.test_client().get(path, base_url="http://10.0.0.5:8000")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/lots/static/style.css' in html
    assert 'action="/lots/aktivera"' in html


def test_redirects_and_the_session_cookie_stay_under_the_prefix(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(GUIDE_BASE_URL=PREFIXED)
    client = app.test_client()
    response = client.get("/lots/min-guide/", base_url="http://10.0.0.5:8000")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/lots/logga-in")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["APPLICATION_ROOT"] == "/lots"


def test_behind_a_trusted_proxy_the_client_address_is_the_one_it_saw(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(GUIDE_PROXY_HOPS="1")
    seen: list[str | None] = []

    @app.get("/_probe")
    def probe() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    app.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["203.0.113.7"]


def test_without_trusted_proxies_a_forwarded_address_is_not_believed(app: Flask) -> None:
    seen: list[str | None] = []

    @app.get("/_probe")
    def probe() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    app.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["127.0.0.1"]


@pytest.mark.parametrize(
    "text", ["lots.kommun.se", "ftp://kommun.se", "https://", "https://kommun.se/?a=1"]
)
def test_a_base_url_that_is_no_public_address_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(BaseUrlError, match="GUIDE_BASE_URL"):
        BaseUrl.parse(text)


def test_the_service_does_not_start_with_a_wrong_base_url(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIDE_BASE_URL", "lots.kommun.se")
    with pytest.raises(BaseUrlError, match="public address"):
        create_app()


def test_a_mail_rendered_in_a_scheduler_thread_links_to_the_public_address(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(GUIDE_BASE_URL=PREFIXED)
    tenant = make_tenant()
    enrol(issue_cards(tenant.unit, 1, now=ACTIVATED)[0], "anna@example.se", now=ACTIVATED)
    db.session.commit()
    failures: list[BaseException] = []

    def scheduler_thread() -> None:  # what APScheduler's thread in `guide serve` does
        try:
            with app.app_context():
                deliver_outbox(db.session, ACTIVATED)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    thread = threading.Thread(target=scheduler_thread)
    thread.start()
    thread.join()
    assert failures == []
    db.session.expire_all()
    mail = db.session.scalar(select(CapturedMail))
    assert mail is not None
    assert "https://kommun.se/lots/logga-in/" in mail.text_body
    assert mail.headers["List-Unsubscribe"].startswith("<https://kommun.se/lots/avregistrera/")
    assert mail.headers["Message-ID"].endswith("@kommun.se>")


def test_the_alert_mail_to_staff_links_to_the_case_outside_a_request(app: Flask) -> None:
    message = OutboxMessage(
        idempotency_key="alert:7:staff", kind="alert", recipient="s@kommun.se", payload={}
    )
    message.payload = {"alert_id": 7}  # the queue link needs only the alert's id
    context = context_for(db.session, message, None, ACTIVATED)
    assert context["queue_url"] == "http://lots.test/personal/uppfoljning/7"


def test_staff_create_prints_a_set_password_link_on_the_public_address(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(GUIDE_BASE_URL=PREFIXED)
    make_tenant()
    runner = app.test_cli_runner()
    arguments = "staff create --org kommunen --email ny@kommunen.se --role org_admin"
    result = runner.invoke(args=arguments.split())
    assert result.exit_code == 0, result.output
    assert "https://kommun.se/lots/personal/losenord/" in result.output
