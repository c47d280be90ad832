"""A follow-up call as deployed: the guide says call, the morning mail tells staff, staff call.

Installed `guide` commands configured by environment only, `guide serve` on a real
port, a real SMTP server on loopback, and `guide scheduler tick --now` to let days
pass. Staff set their password from the printed link, fill in what relatives see of
them, take the case and mark it contacted; the relative then sees "Din kontaktperson".
"""

from __future__ import annotations

import json

from scheduler.followups import next_working_day
from tests.e2e.deployment import LINK, Browser, Deployment, days_after, local
from tests.e2e.test_relative_journey import CONSENTS, EMAIL, issue_card
from tests.test_followup_calls import FOLLOWUP_CONTENT

STAFF_EMAIL = "karin@kommunen.se"
PASSWORD = "ett-riktigt-langt-losenord"


def test_a_call_becomes_a_case_a_morning_mail_and_a_named_contact_person(
    deployment: Deployment,
) -> None:
    deployment.environment["GUIDE_CONTENT_DIR"] = str(FOLLOWUP_CONTENT)
    deployment.guide("org", "create", "--slug", "kommunen", "--name", "Kommunen")
    deployment.guide(
        "unit", "create", "--org", "kommunen", "--slug", "anhorigstod", "--name", "Anhörigstöd",
        "--contact", "Ring kommunens växel",
    )  # fmt: skip
    created = deployment.guide(
        "staff", "create", "--org", "kommunen", "--unit", "anhorigstod",
        "--email", STAFF_EMAIL, "--role", "staff",
    )  # fmt: skip
    (password_link,) = LINK.findall(created)
    token = deployment.guide("staff", "token", "--email", STAFF_EMAIL).split()[-1]

    with deployment.serving():
        code = issue_card(deployment, token, "stod")
        status, body = deployment.api(
            "POST", "/api/v1/activations", {"code": code, "email": EMAIL, "consents": CONSENTS}
        )
        assert status == 201, body
        relative_token = body["token"]
        deployment.wait_for_mail(1)  # the welcome mail
        day0 = deployment.activated_on(EMAIL)
        call_day = next_working_day(days_after(day0, 3))

        # Until the call's working morning the unit's queue is empty.
        deployment.tick(local(call_day, 8, 59))
        status, queue = deployment.api("GET", "/api/v1/alerts", token=token)
        assert queue == {"alerts": []}

        # At 09:00 the case is there, and the unit's staff get one morning mail: a link only.
        deployment.tick(local(call_day, 9, 0))
        deployment.tick(local(call_day, 9, 5))  # a second pass the same morning adds nothing
        # The relative's own check-in invitation falls due at 09:00 as well.
        mails = deployment.wait_for_mail(3)
        (digest,) = [m for m in mails if m.rcpt_tos == (STAFF_EMAIL,)]
        assert digest.parsed()["Subject"] == "Ärenden att följa upp i dag"
        assert f"{deployment.base_url}/personal/uppfoljning/" in digest.text()
        assert EMAIL not in digest.text() and "anna" not in digest.text().lower()
        status, queue = deployment.api("GET", "/api/v1/alerts", token=token)
        (case,) = queue["alerts"]
        assert case["source"] == "followup"
        assert case["reason"] == "Uppföljningssamtal efter några dagar"
        assert case["overdue"] is False
        assert case["due_at"] < case["target_at"]

        # Karin sets her password, says who she is, takes the case and calls.
        karin = Browser()
        form = karin.get(password_link)
        karin.submit(form, "/personal/losenord/", {"password": PASSWORD, "password2": PASSWORD})
        login = karin.get(f"{deployment.base_url}/personal/logga-in")
        karin.submit(login, "/personal/logga-in", {"email": STAFF_EMAIL, "password": PASSWORD})
        profile = karin.get(f"{deployment.base_url}/personal/uppfoljning/min-profil")
        saved = karin.submit(
            profile,
            "min-profil",
            {"display_name": "Karin", "role": "Anhörigkonsulent", "reach": "Vardagar 9–11"},
        )
        assert saved.status == 200 and "Din profil är sparad" in saved.html
        status, taken = deployment.api("POST", f"/api/v1/alerts/{case['id']}/take", {}, token)
        assert status == 200 and taken["assigned_to_me"] is True
        status, done = deployment.api(
            "POST", f"/api/v1/alerts/{case['id']}/contacted", {"note": "Pratade en stund"}, token
        )
        assert status == 200 and done["seconds_to_first_contact"] is not None

        # The relative sees her named contact person.
        status, journey = deployment.api("GET", "/api/v1/me/journey", token=relative_token)
        (enrolment,) = journey["enrolments"]
        assert enrolment["contact_person"] == {
            "name": "Karin",
            "role": "Anhörigkonsulent",
            "reach": "Vardagar 9–11",
        }

    # Passes later the same day and the next days make no second case and no second mail.
    deployment.tick(local(call_day, 15, 0))
    rows = deployment.query("SELECT count(*) FROM followup_call")
    assert rows[0][0] == 1
    assert json.dumps(deployment.query("SELECT count(*) FROM alert")[0][0]) == "1"
    to_staff = [m for m in deployment.sink.received if m.rcpt_tos == (STAFF_EMAIL,)]
    assert len(to_staff) == 1
