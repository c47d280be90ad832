"""The application shell: pages, headers, errors, API document, migrations and `guide serve`."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import StaffUser


def test_start_page_is_swedish_and_semantic(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="sv">' in html
    assert 'name="viewport"' in html
    assert '<main id="main"' in html and 'href="#main"' in html
    assert "Stöd för anhöriga" in html


def test_security_headers_are_set(client) -> None:  # type: ignore[no-untyped-def]
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_unknown_page_is_a_swedish_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/finns-inte")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.get_data(as_text=True)


def test_api_errors_are_json(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/finns-inte")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found"
    assert body["message"]


def test_openapi_document_describes_the_api(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["schemas"]["Error"]["required"] == ["error", "message"]
    assert "/health" in document["paths"]


def test_forms_are_protected_against_csrf(raw_client: FlaskClient) -> None:
    """CSRF protection is on as in every deployment: a form posted without its token fails."""
    refused = raw_client.post("/logga-in", data={"email": "anna@example.se"})
    assert refused.status_code == 400
    assert "Formuläret hade gått ut" in refused.get_data(as_text=True)


def test_a_form_posted_with_its_token_is_taken(client: FlaskClient) -> None:
    assert client.post("/logga-in", data={"email": "anna@example.se"}).status_code in (200, 302)


def test_migrations_match_the_models(app: Flask) -> None:
    """The migrations create exactly the tables the models describe (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from guide.extensions import upgrade_database

    if db.engine.dialect.name == "sqlite":
        db.drop_all()
        upgrade_database()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_serve_demo_migrates_and_prints_how_to_log_in(app: Flask) -> None:
    from guide.cli.serve import prepare_service

    if db.engine.dialect.name == "sqlite":
        db.drop_all()  # start from nothing; PostgreSQL's schema is the migrated one already
    lines = list(prepare_service(app, "127.0.0.1", 5057, demo=True))
    text = "\n".join(lines)
    assert "Lots listens on http://127.0.0.1:5057" in text
    assert "personal@demo.lots.se" in text and "redaktor@demo.lots.se" in text
    assert "granskare@demo.lots.se" in text  # a second editor, for four-eyes review
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "admin@demo.lots.se"))
    # Running it again (a restart) neither fails nor duplicates the demo.
    assert list(prepare_service(app, "127.0.0.1", 5057, demo=True))


def test_rate_limits_can_be_left_to_a_proxy_in_front(make_app) -> None:  # type: ignore[no-untyped-def]
    limited = make_app().test_client()
    statuses = {
        limited.post("/logga-in", data={"email": "a@example.se"}).status_code for _ in range(12)
    }
    assert 429 in statuses
    open_app = make_app(GUIDE_RATELIMIT_ENABLED="0").test_client()
    statuses = {
        open_app.post("/logga-in", data={"email": "a@example.se"}).status_code for _ in range(12)
    }
    assert 429 not in statuses


def test_serve_on_another_port_says_what_a_second_shell_needs_for_its_links(
    make_app: Callable[..., Flask],
) -> None:
    from guide.cli.serve import prepare_service

    # No base URL of its own (the default's value): links follow the port it listens on,
    # and the demo's `guide scheduler tick` line carries that address to the other shell.
    moved = make_app(GUIDE_BASE_URL="http://localhost:5000")
    if db.engine.dialect.name == "sqlite":
        db.drop_all()
    text = "\n".join(prepare_service(moved, "127.0.0.1", 5057, demo=True))
    assert moved.config["GUIDE_BASE_URL"] == "http://127.0.0.1:5057"
    assert "  GUIDE_BASE_URL=http://127.0.0.1:5057 guide scheduler tick --now" in text

    # A deployment's own base URL stands, and the line needs nothing more.
    kept = make_app(GUIDE_BASE_URL="https://lots.example")
    text = "\n".join(prepare_service(kept, "127.0.0.1", 5057, demo=True))
    assert kept.config["GUIDE_BASE_URL"] == "https://lots.example"
    assert "\n  guide scheduler tick --now" in text
