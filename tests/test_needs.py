"""'Ditt behov': ticking a module's needs, once each, from the module page and the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.extensions import db
from guide.models import Event, NeedTick
from guide.services.library import current_library
from guide.services.needs import NeedError, tick_needs, ticked_needs
from tests.checkin_support import (
    ACTIVATED,
    KONTROLL_CONTENT,
    enrolled,
    enrolled_now,
    log_in_relative,
    relative_token,
)
from tests.conftest import at

TICKED = at("2026-03-03 20:15")


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def tick(enrolment, module_id: str, needs: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    guide = current_library().guide(enrolment.guide_id)
    new = tick_needs(db.session, guide, enrolment, module_id, needs, TICKED)
    db.session.commit()
    return new


def count_ticks() -> int:
    return db.session.scalar(select(func.count()).select_from(NeedTick)) or 0


def test_ticked_needs_are_stored_with_an_event(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment

    assert tick(enrolment, "valkommen", ["prata", "avlosning-info"]) == ["prata", "avlosning-info"]

    rows = db.session.scalars(select(NeedTick).order_by(NeedTick.id)).all()
    assert [(r.module_id, r.need_id, r.ticked_at) for r in rows] == [
        ("valkommen", "prata", TICKED),
        ("valkommen", "avlosning-info", TICKED),
    ]
    event = db.session.scalars(select(Event).where(Event.kind == "needs_ticked")).one()
    assert event.data == {"module": "valkommen", "needs": ["prata", "avlosning-info"]}


def test_a_need_is_counted_once_however_often_it_is_ticked(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    tick(enrolment, "valkommen", ["prata", "prata"])

    assert tick(enrolment, "valkommen", ["prata"]) == []
    assert count_ticks() == 1
    assert ticked_needs(db.session, enrolment, "valkommen") == ["prata"]
    assert db.session.scalar(select(func.count()).where(Event.kind == "needs_ticked")) == 1


def test_each_enrolment_ticks_its_own_needs(app) -> None:  # type: ignore[no-untyped-def]
    first = enrolled()
    second = enrolled(tenant=first.tenant, email="annan@example.se")
    tick(first.enrolment, "valkommen", ["prata"])
    tick(second.enrolment, "valkommen", ["prata"])
    assert count_ticks() == 2


def test_an_unknown_need_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    with pytest.raises(NeedError) as refused:
        tick(enrolment, "valkommen", ["prata", "finns-inte"])
    assert refused.value.code == "need_unknown"
    db.session.rollback()
    assert count_ticks() == 0


def test_needs_of_a_module_the_relative_cannot_read_are_refused(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled(now=ACTIVATED).enrolment
    for module_id in ("orka", "boende", "finns-inte"):  # on demand, later phase, unknown
        with pytest.raises(NeedError) as refused:
            tick(enrolment, module_id, [])
        assert refused.value.code == "module_unknown"


def test_module_page_offers_its_needs_and_shows_what_was_ticked(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    log_in_relative(client, enrolment.relative)
    page = f"/min-guide/{enrolment.id}/valkommen"

    html = client.get(page).get_data(as_text=True)
    assert '<section class="panel" id="ditt-behov"' in html
    assert "<legend>Kryssa i det som stämmer för dig" in html
    assert '<input type="checkbox" name="need" value="prata"> Jag vill prata med någon' in html

    response = client.post(f"{page}/behov", data={"need": ["prata"]}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Tack! Vi har noterat vad du behöver." in html
    assert "Du har berättat att:" in html and "<li>Jag vill prata med någon</li>" in html
    assert 'value="prata"' not in html and 'value="avlosning-info"' in html
    assert count_ticks() == 1


def test_module_page_refuses_an_unknown_need_with_a_message(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    log_in_relative(client, enrolment.relative)

    response = client.post(
        f"/min-guide/{enrolment.id}/valkommen/behov",
        data={"need": ["hittepa"]},
        follow_redirects=True,
    )

    assert "Avsnittet har inget behov" in response.get_data(as_text=True)
    assert count_ticks() == 0


def test_needs_of_someone_elses_enrolment_cannot_be_ticked(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    mine = enrolled_now()
    other = enrolled_now(tenant=mine.tenant, email="annan@example.se")
    log_in_relative(client, other.relative)

    response = client.post(
        f"/min-guide/{mine.enrolment.id}/valkommen/behov", data={"need": ["prata"]}
    )

    assert response.status_code == 404
    assert count_ticks() == 0


def test_api_ticks_needs_and_says_which_are_new(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    headers = relative_token(enrolment.relative)

    first = client.post(
        "/api/v1/me/needs", json={"module": "valkommen", "needs": ["prata"]}, headers=headers
    )
    again = client.post(
        "/api/v1/me/needs",
        json={"module": "valkommen", "needs": ["prata", "avlosning-info"]},
        headers=headers,
    )

    assert first.status_code == 200
    assert first.get_json() == {
        "enrolment": enrolment.id,
        "module": "valkommen",
        "ticked_now": ["prata"],
        "ticked": ["prata"],
    }
    assert again.get_json()["ticked_now"] == ["avlosning-info"]
    assert again.get_json()["ticked"] == ["prata", "avlosning-info"]
    assert count_ticks() == 2


def test_api_refuses_unknown_modules_needs_and_bad_bodies(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    headers = relative_token(enrolment.relative)

    def post(body: object):  # type: ignore[no-untyped-def]
        return client.post("/api/v1/me/needs", json=body, headers=headers)

    assert post({"module": "orka", "needs": ["x"]}).get_json()["error"] == "module_unknown"
    assert post({"module": "valkommen", "needs": ["x"]}).get_json()["error"] == "need_unknown"
    assert post({"module": "valkommen", "needs": "prata"}).get_json()["error"] == "needs_invalid"
    assert post({"needs": ["prata"]}).get_json()["error"] == "module_missing"
    assert post({"module": "valkommen", "needs": []}).status_code == 200
    assert client.post("/api/v1/me/needs", json={}).status_code == 401
    assert count_ticks() == 0
