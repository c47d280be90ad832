"""Statistics: the page, CSV and API show the same suppressed numbers; consent and scope hold."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import CheckinInstance, ConsentPurpose, Enrolment, NeedTick, Release
from guide.services.accounts import create_staff
from guide.services.followup import raise_alert
from tests.checkin_support import log_in_staff
from tests.conftest import at
from tests.factories import PASSWORD, Tenant, enrol, issue_cards, make_tenant, staff_token

ISSUED = at("2026-05-04 10:00")
PERIOD = {"from": "2026-05", "to": "2026-05"}
YES = {purpose: True for purpose in ConsentPurpose}
NO_STATISTICS = {**YES, ConsentPurpose.STATISTICS: False}


@pytest.fixture
def tenant(app: Flask) -> Tenant:
    return make_tenant()


def _enrolled(
    tenant: Tenant, count: int, consents: dict, unit: object = None, tag: str = "a"
) -> list[Enrolment]:  # type: ignore[type-arg]
    cards = issue_cards(unit or tenant.unit, count, now=ISSUED)  # type: ignore[arg-type]
    enrolments = []
    for n, card in enumerate(cards):
        enrolment = enrol(
            card, f"{tag}{n}@example.se", now=ISSUED + timedelta(days=2), consents=consents
        )
        enrolments.append(enrolment)
    return enrolments


def _answer(enrolment: Enrolment, ork: int) -> None:
    when = ISSUED + timedelta(days=5)
    db.session.add(
        CheckinInstance(
            enrolment_id=enrolment.id,
            checkin_id="hur-gar-det",
            due_at=when,
            opened_at=when,
            answered_at=when,
            answers={"ork": ork},
        )
    )
    db.session.add(
        NeedTick(enrolment_id=enrolment.id, module_id="valkommen", need_id="prata", ticked_at=when)
    )
    release = db.session.scalar(select(Release).where(Release.enrolment_id == enrolment.id))
    assert release is not None
    release.read_at = when


def _stats(client: FlaskClient, staff: object, **query: str) -> dict:  # type: ignore[type-arg]
    answer = client.get(
        "/api/v1/stats", query_string={**PERIOD, **query}, headers=staff_token(staff)
    )  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def test_small_counts_show_as_less_than_five_and_their_complements_are_hidden(
    client: FlaskClient, tenant: Tenant
) -> None:
    _enrolled(tenant, 7, YES)
    issue_cards(tenant.unit, 5, now=ISSUED)  # twelve issued in the unit, seven used
    _enrolled(tenant, 1, YES, tenant.other_unit, "b")
    issue_cards(tenant.other_unit, 2, now=ISSUED)  # three issued, one used
    cards = _stats(client, tenant.admin)["tables"]["cards"]
    rows = {row["label"]: row["values"] for row in cards["rows"]}
    assert rows["Psykiatrin"] == ["<5", "<5"]
    # The column totals would give the small cells away: the other unit's cells go too.
    assert rows["Anhörigstöd"] == ["dolt", "dolt"]
    assert cards["column_totals"] == [15, 8]


def test_only_relatives_who_consented_to_statistics_count_in_answers_needs_and_reading(
    client: FlaskClient, tenant: Tenant
) -> None:
    for enrolment in _enrolled(tenant, 6, YES):
        _answer(enrolment, 2)
    for enrolment in _enrolled(tenant, 6, NO_STATISTICS, tag="n"):
        _answer(enrolment, 2)
    db.session.commit()
    tables = _stats(client, tenant.admin)["tables"]
    assert tables["ork"]["rows"] == [{"label": "2026-05", "values": [0, 6, 0, 0, 0], "total": 6}]
    assert tables["needs"]["rows"][0]["values"] == [6]
    modules = {row["label"]: row["values"] for row in tables["modules"]["rows"]}
    assert modules["Stöd för anhöriga"] == [12, 6]  # all released, consenting opened
    cards = tables["cards"]
    assert cards["column_totals"] == [12, 12]


def test_alerts_and_their_median_time_to_contact_need_five(
    client: FlaskClient, tenant: Tenant
) -> None:
    enrolments = _enrolled(tenant, 6, YES)
    for n, enrolment in enumerate(enrolments):
        alert = raise_alert(
            db.session,
            enrolment,
            priority="normal",
            source="rule",
            reason="Låg ork",
            now=ISSUED + timedelta(days=3),
        )
        if n < 5:
            alert.first_contact_at = alert.created_at + timedelta(hours=2 * (n + 1))
    db.session.commit()
    stats = _stats(client, tenant.admin)
    rows = {row["label"]: row["values"] for row in stats["tables"]["alerts"]["rows"]}
    assert rows["Signal från en kontrollfråga"] == [6]
    assert stats["median_hours_to_contact"] == 6.0
    assert stats["activation_rate"] == 1.0
    headline = next(h for h in stats["headlines"] if h["label"] == "Utdelade kort")
    assert headline["value"] == 6 and headline["previous"] == 0 and headline["change"] == "–"


def test_unit_staff_see_their_own_unit_only(client: FlaskClient, tenant: Tenant) -> None:
    _enrolled(tenant, 6, YES)
    _enrolled(tenant, 8, YES, tenant.other_unit, "b")
    stats = _stats(client, tenant.staff)
    assert stats["unit"] == "anhorigstod"
    assert [row["label"] for row in stats["tables"]["cards"]["rows"]] == ["Anhörigstöd"]
    assert stats["tables"]["cards"]["column_totals"] == [6, 6]
    refused = client.get(
        "/api/v1/stats",
        query_string={**PERIOD, "unit": "psykiatri"},
        headers=staff_token(tenant.staff),
    )
    assert refused.status_code == 404
    log_in_staff(client, tenant.staff)
    assert client.get(f"/admin/statistik/?enhet={tenant.other_unit.id}").status_code == 404
    page = client.get("/admin/statistik/?fran=2026-05&till=2026-05").get_data(as_text=True)
    assert "Psykiatrin" not in page


def test_another_organisations_admin_sees_none_of_it(client: FlaskClient, tenant: Tenant) -> None:
    _enrolled(tenant, 6, YES)
    elsewhere = make_tenant("grannkommunen")
    stats = _stats(client, elsewhere.admin)
    assert stats["tables"]["cards"]["column_totals"] == [0, 0]
    foreign = client.get(
        "/api/v1/stats",
        query_string={**PERIOD, "unit": "anhorigstod-x"},
        headers=staff_token(elsewhere.admin),
    )
    assert foreign.status_code == 404
    editor = create_staff(
        db.session, "red@kommunen.se", "editor", tenant.organisation, None, PASSWORD
    )  # type: ignore[arg-type]
    db.session.commit()
    assert client.get("/api/v1/stats", headers=staff_token(editor)).status_code == 403


def test_the_page_has_charts_a_screen_reader_can_read_and_the_csv_the_same_suppression(
    client: FlaskClient, tenant: Tenant
) -> None:
    _enrolled(tenant, 7, YES)
    _enrolled(tenant, 1, YES, tenant.other_unit, "b")
    log_in_staff(client, tenant.admin)
    page = client.get("/admin/statistik/?fran=2026-05&till=2026-05")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert html.count('role="img"') == 3
    assert '<title id="chart-cards-title">' in html and '<desc id="chart-cards-desc">' in html
    assert "<caption>Kort som delats ut under perioden</caption>" in html
    assert "&lt;5" in html
    exported = client.get("/admin/statistik/statistik.csv?fran=2026-05&till=2026-05")
    assert exported.mimetype == "text/csv"
    rows = list(
        csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    cards = rows[rows.index(["Kort som delats ut under perioden"]) + 1 :][:4]
    assert cards[1:] == [
        ["Anhörigstöd", "dolt", "dolt"],
        ["Psykiatrin", "<5", "<5"],
        ["Summa", "8", "8"],
    ]


def test_a_period_is_read_in_whole_months_and_a_bad_one_is_refused(
    client: FlaskClient, tenant: Tenant
) -> None:
    headers = staff_token(tenant.admin)
    backwards = client.get("/api/v1/stats?from=2026-06&to=2026-05", headers=headers)
    assert backwards.status_code == 400 and backwards.get_json()["error"] == "period_invalid"
    too_long = client.get("/api/v1/stats?from=2020-01&to=2026-05", headers=headers)
    assert too_long.status_code == 400
    days = client.get("/api/v1/stats?from=2026-05-17&to=2026-05-20", headers=headers).get_json()
    assert days["period"] == {"from": "2026-05", "to": "2026-05"}
    log_in_staff(client, tenant.admin)
    assert client.get("/admin/statistik/?fran=nonsens").status_code == 400


def test_two_nested_periods_never_give_a_small_count_away_by_their_difference(
    client: FlaskClient, tenant: Tenant
) -> None:
    issue_cards(tenant.unit, 10, now=ISSUED)
    issue_cards(tenant.unit, 2, now=ISSUED + timedelta(days=31))  # two cards in June
    may = _stats(client, tenant.admin)["tables"]["cards"]
    assert may["column_totals"][0] == 10
    both = _stats(client, tenant.admin, to="2026-06")["tables"]["cards"]
    # 12 beside May's 10 would say that June had 2: the longer period hides it.
    assert both["column_totals"][0] == "dolt"
    assert 12 not in [v for row in both["rows"] for v in row["values"]]
    june = _stats(client, tenant.admin, **{"from": "2026-06", "to": "2026-06"})["tables"]["cards"]
    assert june["column_totals"][0] == "<5"


def test_contact_within_target_per_unit_shows_share_and_median_over_five_only(
    client: FlaskClient, tenant: Tenant
) -> None:
    enrolments = _enrolled(tenant, 7, YES)
    _enrolled(tenant, 2, YES, tenant.other_unit, "b")
    raised = ISSUED + timedelta(days=3)
    for n, enrolment in enumerate(enrolments):
        alert = raise_alert(
            db.session, enrolment, priority="normal", source="rule", reason="Låg ork", now=raised
        )
        alert.target_at = raised + timedelta(days=7)
        if n < 5:  # five reached within the target, in 1..5 hours
            alert.first_contact_at = raised + timedelta(hours=n + 1)
        elif n == 5:  # one reached late
            alert.first_contact_at = raised + timedelta(days=8)
        # and one not reached at all: its target has passed by now
    db.session.commit()
    stats = _stats(client, tenant.admin)
    table = stats["tables"]["contact_targets"]
    rows = {row["label"]: row["values"] for row in table["rows"]}
    assert rows["Anhörigstöd"] == [7, 5]
    assert table["share_within_target_percent"]["Anhörigstöd"] == 71
    assert table["median_hours_to_first_contact"]["Anhörigstöd"] == 3.5  # 1,2,3,4,5,192 h
    # The other unit had no case: nothing to show, and never a rate over nought.
    other = next(label for label in rows if label != "Anhörigstöd")
    assert table["share_within_target_percent"][other] is None
