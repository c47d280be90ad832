"""No input gives a 500: each of the probe's bad inputs is a 400 (or 404, 413) with a clear answer."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guide.api.bodies import ActivationBody, NeedsBody
from tests.factories import enrol, issue_cards, make_tenant, staff_token

BODY_ROUTES = [
    "/api/v1/activations",
    "/api/v1/auth/login-link",
    "/api/v1/auth/token",
    "/api/v1/cards",
    "/api/v1/me/checkins/1",
    "/api/v1/me/needs",
    "/api/v1/me/contact-request",
]


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    """A token good enough for every body route to read its body (staff and relative alike)."""
    tenant = make_tenant()
    enrol(issue_cards(tenant.unit)[0])
    return staff_token(tenant.admin)


def relative_headers() -> dict[str, str]:
    from tests.checkin_support import relative_token

    tenant = make_tenant("annan")
    return relative_token(enrol(issue_cards(tenant.unit)[0], "b@example.se").relative)


def assert_clear_400(response, code: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) >= {"error", "message"} and body["message"]
    if code is not None:
        assert body["error"] == code, body


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"1", b"null", b"{", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_400(
    client: FlaskClient, headers: dict[str, str], route: str, raw: bytes
) -> None:
    if route.startswith("/api/v1/me/"):
        headers = relative_headers()
    response = client.post(route, data=raw, headers={**headers, "Content-Type": "application/json"})
    assert_clear_400(response, "invalid_json")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": 123, "email": "a@example.se"}, "code_invalid"),
        ({"code": "STO-0000-0000-0000", "email": ["a@example.se"]}, "email_invalid"),
        (
            {"code": "STO-0000-0000-0000", "email": "a@example.se", "language": "fi"},
            "language_invalid",
        ),
        (
            {"code": "STO-0000-0000-0000", "email": "a@example.se", "consents": []},
            "consents_invalid",
        ),
        (
            {"code": "STO-0000-0000-0000", "email": "a@example.se", "consents": {"service": "yes"}},
            "consents_invalid",
        ),
        ({"email": "a@example.se"}, "code_missing"),
        ({"code": "X", "email": "a@example.se", "admin": True}, "field_unknown"),
        ({"code": "a" * 1000, "email": "a@example.se"}, "code_invalid"),
    ],
)
def test_wrong_types_in_an_activation_are_a_400_naming_the_field(
    client: FlaskClient, app: Flask, body: dict[str, object], code: str
) -> None:
    assert_clear_400(client.post("/api/v1/activations", json=body), code)


def test_numbers_beyond_a_double_are_a_400(client: FlaskClient, headers: dict[str, str]) -> None:
    for raw in (b'{"count": 1e400}', b'{"count": NaN}', b'{"count": -Infinity}'):
        response = client.post(
            "/api/v1/cards", data=raw, headers={**headers, "Content-Type": "application/json"}
        )
        assert_clear_400(response, "invalid_json")


def test_deep_nesting_is_a_400_or_too_large(client: FlaskClient, app: Flask) -> None:
    def nested(depth: int) -> bytes:
        inner = b"[" * depth + b"]" * depth
        return b'{"code": "x", "email": "a@example.se", "profile": {"q": ' + inner + b"}}"

    for depth, status in ((100_000, 413), (30_000, 400), (20, 400)):
        response = client.post(
            "/api/v1/activations", data=nested(depth), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == status
        assert response.get_json()["error"] in ("invalid_json", "request_entity_too_large")


def test_nul_characters_are_a_400_everywhere(client: FlaskClient, app: Flask) -> None:
    json_nul = client.post(
        "/api/v1/auth/login-link",
        data=b'{"email": "a\\u0000@example.se"}',
        headers={"Content-Type": "application/json"},
    )
    assert_clear_400(json_nul, "invalid_text")
    key_nul = client.post(
        "/api/v1/activations",
        data=b'{"code": "x", "email": "a@b.se", "profile": {"\\u0000": 1}}',
        headers={"Content-Type": "application/json"},
    )
    assert_clear_400(key_nul, "invalid_text")
    assert client.post("/logga-in", data={"email": "a\x00@example.se"}).status_code == 400
    assert client.get("/aktivera?kod=STO\x00").status_code == 400
    assert client.get("/logga-in/abc%00def").status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/alerts/{2**64}",
        f"/api/v1/alerts/{2**31}",
        f"/api/v1/me/checkins/{2**70}",
        f"/min-guide/{2**63}/valkommen",
        f"/personal/omgang/{2**40}",
        f"/personal/kort/{2**64}/sparra",
    ],
)
def test_ids_beyond_the_database_are_not_found(client: FlaskClient, app: Flask, path: str) -> None:
    method = client.post if path.endswith("sparra") or "checkins" in path else client.get
    assert method(path).status_code == 404


def test_query_ids_and_pages_beyond_the_database_are_handled(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    for query in ("batch=99999999999999999999", "batch=1e100", "batch=-1", "batch=", "status="):
        assert_clear_400(client.get(f"/api/v1/cards?{query}", headers=headers))
    assert_clear_400(client.get("/api/v1/cards?stauts=new", headers=headers), "parameter_unknown")
    from tests.checkin_support import log_in_staff

    log_in_staff(client, make_tenant("tredje").admin)
    for query in ("sida=99999999999999999999999", "omgang=2147483648", "enhet=-5", "sida=0"):
        assert client.get(f"/personal/kort?{query}").status_code == 200


def test_odd_login_tokens_in_links_are_refused_kindly(client: FlaskClient, app: Flask) -> None:
    for token in ("%C3%A4" * 30, "a" * 500, "..%2F..%2Fetc"):
        assert client.post(f"/logga-in/{token}").status_code in (400, 404)


def test_json_bodies_are_small_and_forms_generous(client: FlaskClient, app: Flask) -> None:
    big_json = b'{"email": "' + b"a" * (70 * 1024) + b'@example.se"}'
    response = client.post(
        "/api/v1/auth/login-link", data=big_json, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    # 200 KB of form is fine (refused for what it says, not for its size) ...
    fine = client.post("/logga-in", data={"email": "a" * (200 * 1024)})
    assert fine.status_code == 200
    # ... 2 MB is not.
    assert client.post("/logga-in", data={"email": "a" * (2 * 1024 * 1024)}).status_code == 413


def test_the_openapi_request_schemas_are_the_validation_models(client: FlaskClient) -> None:
    """One source: the document's request schemas are generated from the pydantic models."""
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    operation = document["paths"]["/activations"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ActivationBody"
    generated = ActivationBody.model_json_schema(ref_template="#/components/schemas/{model}")
    generated.pop("$defs", None)
    assert schemas["ActivationBody"] == generated
    assert schemas["NeedsBody"]["additionalProperties"] is False
    assert schemas["NeedsBody"]["required"] == sorted(
        name for name, field in NeedsBody.model_fields.items() if field.is_required()
    )


def test_a_500_is_logged_with_its_traceback_and_request_id(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import guide.api.activations as api_relatives
    import guide.web.public as public

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(public, "current_library", broken)
    monkeypatch.setattr(api_relatives, "redeem_card", broken)
    with caplog.at_level(logging.ERROR):
        page = client.get("/")
        api = client.post("/api/v1/activations", json={"code": "x", "email": "a@example.se"})

    assert page.status_code == 500
    request_id = page.headers["X-Request-ID"]
    assert f"uppge felkoden {request_id}" in page.get_data(as_text=True)
    record = next(r for r in caplog.records if request_id in r.getMessage())
    assert record.exc_info and "the database went away" in str(record.exc_info[1])
    assert api.status_code == 500
    assert api.get_json()["request_id"] == api.headers["X-Request-ID"]
    assert any(api.headers["X-Request-ID"] in r.getMessage() for r in caplog.records)


# --- the refusals in the reader's language ------------------------------------------------

ENGLISH = {"Accept-Language": "en"}


@pytest.mark.parametrize(
    ("raw", "code", "swedish", "english"),
    [
        (
            b'{"code": 123, "email": "a@example.se"}',
            "code_invalid",
            "Skriv koden från kortet som en text, till exempel DEM-7KQ4-M2XP-9ABZ.",
            "Type the code from the card as text, for example DEM-7KQ4-M2XP-9ABZ.",
        ),
        (
            b'{"code": "X", "email": "a@example.se", "admin": true}',
            "field_unknown",
            "Fältet admin finns inte här. Se /api/v1/openapi.json.",
            "There is no field admin here. See /api/v1/openapi.json.",
        ),
        (
            b'{"code": "X", "email": "a@example.se", "consents": {"service": "yes"}}',
            "consents_invalid",
            'consents är ett objekt som {"service": true}.',
            'consents is an object such as {"service": true}.',
        ),
        (
            b"[]",
            "invalid_json",
            "Skicka ett JSON-objekt, till exempel {}.",
            "Send a JSON object, for example {}.",
        ),
        (
            b"{",
            "invalid_json",
            "Kroppen är inte giltig JSON. Skicka ett JSON-objekt.",
            "The body is not valid JSON. Send a JSON object.",
        ),
        (
            b'{"code": "x", "email": "a@example.se", "profile": {"q": '
            + b"[" * 20
            + b"]" * 20
            + b"}}",
            "invalid_json",
            "JSON-kroppen får vara högst 16 nivåer djup.",
            "The JSON body can be at most 16 levels deep.",
        ),
        (
            b'{"code": "x\\u0000", "email": "a@example.se"}',
            "invalid_text",
            "Texten innehåller ett otillåtet tecken (NUL).",
            "The text contains a character that is not allowed (NUL).",
        ),
    ],
)
def test_a_refused_body_is_answered_in_english_for_an_english_reader_with_the_same_code(
    client: FlaskClient, app: Flask, raw: bytes, code: str, swedish: str, english: str
) -> None:
    sent = {"Content-Type": "application/json"}
    in_swedish = client.post("/api/v1/activations", data=raw, headers=sent)
    in_english = client.post("/api/v1/activations", data=raw, headers={**sent, **ENGLISH})
    assert in_swedish.status_code == in_english.status_code == 400
    assert in_swedish.get_json()["error"] == in_english.get_json()["error"] == code
    assert in_swedish.get_json().get("field") == in_english.get_json().get("field")
    assert in_swedish.get_json()["message"] == swedish
    assert in_english.get_json()["message"] == english


def test_an_unknown_query_parameter_is_refused_in_english_for_an_english_reader(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    in_swedish = client.get("/api/v1/cards?colour=red", headers=headers)
    in_english = client.get("/api/v1/cards?colour=red", headers={**headers, **ENGLISH})
    assert in_swedish.status_code == in_english.status_code == 400
    assert in_swedish.get_json()["error"] == in_english.get_json()["error"] == "parameter_unknown"
    assert in_swedish.get_json()["message"] == (
        "Parametern colour finns inte här. Se /api/v1/openapi.json."
    )
    assert in_english.get_json()["message"] == (
        "There is no parameter colour here. See /api/v1/openapi.json."
    )


def test_a_relative_who_chose_english_gets_refusals_in_english_without_asking(
    client: FlaskClient, app: Flask
) -> None:
    from guide.extensions import db
    from tests.checkin_support import relative_token

    relative = enrol(issue_cards(make_tenant().unit)[0]).relative
    relative.language = "en"
    db.session.commit()
    response = client.post(
        "/api/v1/me/needs", json={"module": 5, "needs": []}, headers=relative_token(relative)
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "module_invalid"
    assert response.get_json()["message"] == "Give the module in module."


def test_every_sentence_a_body_declares_is_a_translatable_sentence() -> None:
    from guide.api import bodies
    from guide.errors import Sentence

    models = [
        m for m in vars(bodies).values() if isinstance(m, type) and issubclass(m, bodies.Body)
    ]
    assert len(models) > 10
    for model in models:
        for field, message in model.messages.items():
            assert isinstance(message, Sentence), (model.__name__, field)


def test_the_api_says_its_own_sentences_in_the_readers_language(client: FlaskClient) -> None:
    """A login link's acknowledgement and a missing staff token, in Swedish and in English."""
    body = {"email": "vem@example.se"}
    swedish = client.post("/api/v1/auth/login-link", json=body).get_json()["message"]
    english = client.post("/api/v1/auth/login-link", json=body, headers=ENGLISH).get_json()
    assert swedish == "Om adressen finns hos oss har vi skickat en inloggningslänk."
    assert english["message"] == "If we have that address, we have sent a login link to it."

    refused = client.get("/api/v1/cards").get_json()
    refused_en = client.get("/api/v1/cards", headers=ENGLISH).get_json()
    assert refused["error"] == refused_en["error"] == "unauthorized"
    assert refused["message"] == "Använd en API-nyckel för personal (guide staff token)."
    assert refused_en["message"] == "Use a staff API token (guide staff token)."
