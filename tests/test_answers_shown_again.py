"""A form sent back with a mistake shows every answer again as it was given, a scale too.

The fixture's profile gets a scale question here (an editor may write one), so the
profile page and the activation's questions are tested as the check-in page is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.checkin_support import log_in_relative
from tests.factories import enrol_in_account, issue_cards, make_tenant
from tests.pure.test_content_checker import edit

SCALE = "  - id: styrka\n    type: scale\n    text: {sv: Hur mycket orkar du?}\n"


@pytest.fixture
def content_dir(content_copy: Path) -> Path:
    edit(content_copy, "stod/guide.yaml", "  - id: bor-ihop\n", SCALE + "  - id: bor-ihop\n")
    return content_copy


MISTAKE = {"q-relation": "granne", "q-styrka": "4", "q-bor-ihop": "yes"}  # no such option


def assert_shown_again(response_page: str) -> None:
    assert 'name="q-styrka" value="4" checked' in response_page
    assert 'name="q-styrka" value="3" checked' not in response_page
    assert 'name="q-bor-ihop" value="yes" checked' in response_page


def test_the_profile_page_shows_a_scale_answer_again_after_a_mistake(client: FlaskClient) -> None:
    enrolment = enrol_in_account(issue_cards(make_tenant().unit)[0])
    log_in_relative(client, enrolment.relative)
    response = client.post(f"/min-guide/{enrolment.id}/dina-svar", data=MISTAKE)
    assert response.status_code == 400
    assert_shown_again(response.get_data(as_text=True))


def test_the_activation_questions_show_a_scale_answer_again_after_a_mistake(
    client: FlaskClient,
) -> None:
    card = issue_cards(make_tenant().unit)[0]
    client.post("/aktivera", data={"code": card.code})
    response = client.post("/aktivera/fragor", data=MISTAKE)
    assert response.status_code == 400
    assert_shown_again(response.get_data(as_text=True))
