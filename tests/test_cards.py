"""Issuing, listing, revoking and printing cards: staff pages, API and CLI."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from activation_codes.codes import has_valid_check
from guide.extensions import db
from guide.models import Card, StaffUser
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant, staff_token


@pytest.fixture
def tenant(app):  # type: ignore[no-untyped-def]
    return make_tenant()


def log_in(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/personal/logga-in", data={"email": email, "password": password})


def test_staff_log_in_with_password_and_see_cards(client, tenant) -> None:  # type: ignore[no-untyped-def]
    response = log_in(client, tenant.staff.email)
    assert response.headers["Location"] == "/personal/kort"
    assert client.get("/personal/kort").status_code == 200


def test_wrong_password_is_refused_and_attempts_are_throttled(client, tenant) -> None:  # type: ignore[no-untyped-def]
    statuses = [
        log_in(client, tenant.staff.email, "fel-losenord-123").status_code for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # Even the right password waits now: the account is throttled, not the guesser's luck.
    assert log_in(client, tenant.staff.email).status_code == 429


def test_staff_sessions_time_out_when_idle(client, tenant, app) -> None:  # type: ignore[no-untyped-def]
    log_in(client, tenant.staff.email)
    with client.session_transaction() as session:
        session["staff_seen"] -= (app.config["STAFF_SESSION_IDLE_MINUTES"] + 1) * 60
    response = client.get("/personal/kort")
    assert response.status_code == 302 and "/personal/logga-in" in response.headers["Location"]


def test_staff_issue_a_batch_and_download_a_print_ready_pdf(client, tenant) -> None:  # type: ignore[no-untyped-def]
    log_in(client, tenant.staff.email)
    response = client.post(
        "/personal/kort/nya",
        data={
            "unit": str(tenant.unit.id),
            "guide": "stod",
            "count": "10",
            "phase": "",
            "expires": "",
        },
    )
    assert response.status_code == 302
    batch_path = response.headers["Location"]
    pdf = client.get(batch_path + ".pdf")
    assert pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 2  # eight cards a page
    text = "".join(page.extract_text() for page in reader.pages)
    codes = db.session.scalars(select(Card.code)).all()
    assert len(codes) == 10
    assert all(code in text for code in codes)
    assert "Anhörigstöd" in text and "Ring enheten" in text


def test_printed_qr_opens_the_activation_page_with_the_code(tenant) -> None:  # type: ignore[no-untyped-def]
    from activation_codes.cards_pdf import qr_payload
    from guide.models import CardBatch
    from guide.services.cards import printable_cards
    from guide.services.library import current_library

    card = issue_cards(tenant.unit)[0]
    printed = next(
        printable_cards(db.session, current_library(), db.session.get(CardBatch, card.batch_id))
    )
    assert qr_payload(printed) == f"http://lots.test/aktivera?kod={card.code}"


def test_staff_only_issue_for_their_own_unit(client, tenant) -> None:  # type: ignore[no-untyped-def]
    log_in(client, tenant.staff.email)
    response = client.post(
        "/personal/kort/nya",
        data={"unit": str(tenant.other_unit.id), "guide": "stod", "count": "1"},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Card)) == 0


def test_card_list_filters_by_status(client, tenant) -> None:  # type: ignore[no-untyped-def]
    new, used, revoked, expired = issue_cards(tenant.unit, 4)
    enrol(used)
    revoked.status = "revoked"
    expired.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    log_in(client, tenant.admin.email)
    for status, card in [
        ("new", new),
        ("activated", used),
        ("revoked", revoked),
        ("expired", expired),
    ]:
        page = client.get(f"/personal/kort?status={status}").get_data(as_text=True)
        assert card.code in page
        assert "1 kort" in page


def test_staff_revoke_a_card_and_it_no_longer_redeems(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    log_in(client, tenant.staff.email)
    client.post(f"/personal/kort/{card.id}/sparra")
    db.session.expire_all()
    assert db.session.get(Card, card.id).status == "revoked"
    response = client.post(
        "/api/v1/activations",
        json={"code": card.code, "email": "a@x.se", "consents": {"service": True}},
    )
    assert response.get_json()["error"] == "code_revoked"


def test_staff_of_another_organisation_see_nothing(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    other = make_tenant("grannkommunen")
    log_in(client, other.staff.email)
    assert card.code not in client.get("/personal/kort").get_data(as_text=True)
    assert client.get(f"/personal/omgang/{card.batch_id}.pdf").status_code == 404
    assert client.post(f"/personal/kort/{card.id}/sparra").status_code == 404
    listed = client.get("/api/v1/cards", headers=staff_token(other.staff)).get_json()["cards"]
    assert listed == []


def test_api_issues_a_batch_and_lists_it(client, tenant) -> None:  # type: ignore[no-untyped-def]
    headers = staff_token(tenant.staff)
    created = client.post(
        "/api/v1/cards",
        json={
            "unit": "anhorigstod",
            "guide": "stod",
            "count": 3,
            "phase": "sedan",
            "expires": "2099-12-31",
        },
        headers=headers,
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["count"] == 3
    assert all(has_valid_check(c["code"]) and c["code"].startswith("STD-") for c in body["cards"])
    assert {c["phase"] for c in body["cards"]} == {"sedan"}
    listed = client.get("/api/v1/cards?status=new", headers=headers).get_json()["cards"]
    assert len(listed) == 3


def test_api_refuses_another_units_batch_for_plain_staff(client, tenant) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/cards",
        json={"unit": "psykiatri", "guide": "stod", "count": 1},
        headers=staff_token(tenant.staff),
    )
    assert response.status_code == 403
    assert response.get_json()["error"] == "unit_forbidden"


def test_api_needs_a_staff_token(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/cards").get_json()["error"] == "unauthorized"


def test_ten_thousand_cards_in_one_batch(tenant) -> None:  # type: ignore[no-untyped-def]
    cards = issue_cards(tenant.unit, 10_000)
    assert len({c.code for c in cards}) == 10_000


def test_cli_creates_org_unit_staff_and_issues_a_printable_batch(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert (
        runner.invoke(args=["org", "create", "--slug", "hbg", "--name", "Helsingborg"]).exit_code
        == 0
    )
    result = runner.invoke(
        args=["unit", "create", "--org", "hbg", "--slug", "anhorig", "--name", "Anhörigstöd"]
    )
    assert result.exit_code == 0, result.output
    created = runner.invoke(
        args=[
            "staff",
            "create",
            "--org",
            "hbg",
            "--unit",
            "anhorig",
            "--email",
            "k@hbg.se",
            "--role",
            "staff",
        ]
    )
    assert created.exit_code == 0, created.output
    assert "/personal/losenord/" in created.output
    token = runner.invoke(args=["staff", "token", "--email", "k@hbg.se"])
    assert token.exit_code == 0 and len(token.output.strip()) > 30
    out = tmp_path / "kort.pdf"
    issued = runner.invoke(
        args=[
            "cards",
            "issue",
            "--org",
            "hbg",
            "--unit",
            "anhorig",
            "--guide",
            "stod",
            "--count",
            "9",
            "--out",
            str(out),
        ]
    )
    assert issued.exit_code == 0, issued.output
    assert len(PdfReader(out).pages) == 2


def test_cli_explains_a_missing_organisation(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["unit", "create", "--org", "finns-inte", "--slug", "a", "--name", "A"]
    )
    assert result.exit_code != 0
    assert "There is no organisation 'finns-inte'" in result.output


def test_password_link_sets_a_password_once(client, runner) -> None:  # type: ignore[no-untyped-def]
    runner.invoke(args=["org", "create", "--slug", "hbg", "--name", "Helsingborg"])
    created = runner.invoke(
        args=["staff", "create", "--org", "hbg", "--email", "a@hbg.se", "--role", "org_admin"]
    )
    link = next(w for w in created.output.split() if "/personal/losenord/" in w).replace(
        "http://lots.test", ""
    )
    assert client.post(link, data={"password": "kort", "password2": "kort"}).status_code == 400
    assert (
        client.post(
            link, data={"password": "ett-bra-losenord", "password2": "ett-bra-losenord"}
        ).status_code
        == 302
    )
    assert client.get(link).status_code == 404  # used
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == "a@hbg.se"))
    assert staff.password_hash.startswith("$argon2id$")


def test_a_large_batch_downloads_in_parts_of_a_thousand(client, tenant) -> None:  # type: ignore[no-untyped-def]
    cards = issue_cards(tenant.unit, 1_003)
    log_in(client, tenant.staff.email)
    page = client.get(f"/personal/omgang/{cards[0].batch_id}").get_data(as_text=True)
    assert "kort 1–1000" in page and "kort 1001–1003" in page
    last = client.get(f"/personal/omgang/{cards[0].batch_id}.pdf?del=2")
    reader = PdfReader(io.BytesIO(last.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert all(card.code in text for card in cards[1000:])
    assert client.get(f"/personal/omgang/{cards[0].batch_id}.pdf?del=3").status_code == 404


def test_org_admins_see_the_mail_problems_link_and_staff_do_not(client, tenant) -> None:  # type: ignore[no-untyped-def]
    log_in(client, tenant.admin.email)
    assert "/admin/e-post/" in client.get("/personal/kort").get_data(as_text=True)
    other = client.application.test_client()
    log_in(other, tenant.staff.email)
    assert "/admin/e-post/" not in other.get("/personal/kort").get_data(as_text=True)
