"""A relative's first month as deployed: card, welcome, notices at 09:00, a check-in, a new phase.

Everything runs as an operator runs it: `guide` subprocesses configured only by
environment variables, `guide serve` on a real port, a real SMTP server on loopback,
and `guide scheduler tick --now` to let days pass. The relative follows the links in
the mails that reached the SMTP server, as a person would.
"""

from __future__ import annotations

import json
import urllib.request

from tests.conftest import FIXTURE_CONTENT
from tests.e2e.deployment import CODE, Browser, Deployment, days_after, local, login_link

EMAIL = "anna.andersson@example.se"
CONSENTS = {"service": True, "contact": True, "statistics": True}


def set_up_organisation(deployment: Deployment) -> str:
    """Create an organisation, a unit and a staff member; return the staff member's API token."""
    deployment.guide("org", "create", "--slug", "kommunen", "--name", "Kommunen")
    deployment.guide(
        "unit", "create", "--org", "kommunen", "--slug", "anhorigstod", "--name", "Anhörigstöd"
    )
    deployment.guide(
        "staff", "create", "--org", "kommunen", "--unit", "anhorigstod",
        "--email", "personal@kommunen.se", "--role", "staff",
    )  # fmt: skip
    return deployment.guide("staff", "token", "--email", "personal@kommunen.se").split()[-1]


def issue_card(deployment: Deployment, token: str, guide: str) -> str:
    status, body = deployment.api(
        "POST", "/api/v1/cards", {"unit": "anhorigstod", "guide": guide, "count": 1}, token
    )
    assert status == 201, body
    return str(CODE.findall(json.dumps(body))[0])


def test_a_relative_goes_from_card_to_a_new_phase_by_mail_and_web(deployment: Deployment) -> None:
    deployment.environment["GUIDE_CONTENT_DIR"] = str(FIXTURE_CONTENT)
    token = set_up_organisation(deployment)
    with deployment.serving():
        code = issue_card(deployment, token, "stod")
        status, body = deployment.api(
            "POST",
            "/api/v1/activations",
            {"code": code, "email": EMAIL, "profile": {"bor-ihop": True}, "consents": CONSENTS},
        )
        assert status == 201, body

        # The welcome mail is sent at once; its login link opens Min guide.
        (welcome,) = deployment.wait_for_mail(1)
        assert welcome.rcpt_tos == (EMAIL,)
        relative = Browser()
        confirm = relative.get(login_link(welcome))
        assert confirm.status == 200
        journey = relative.submit(confirm, "/logga-in/")
        assert journey.status == 200 and "Välkommen" in journey.html
        day0 = deployment.activated_on(EMAIL)

        # Day 3: the check-in invitation comes at the preferred hour, 09:00 local, not before.
        assert "sent 0 e-mail(s)" in deployment.tick(local(days_after(day0, 3), 8, 59))
        assert "sent 1 e-mail(s)" in deployment.tick(local(days_after(day0, 3), 9, 0))
        invitation = deployment.wait_for_mail(2)[-1]
        assert "Hur går det?" in invitation.text()

        # Day 7: the scheduled module, again at 09:00; its login link works.
        assert "sent 0 e-mail(s)" in deployment.tick(local(days_after(day0, 7), 8, 59))
        deployment.tick(local(days_after(day0, 7), 9, 0))
        notice = deployment.wait_for_mail(3)[-1]
        assert "Avlösning" in notice.text()
        assert notice.parsed()["Subject"] == "Nytt avsnitt i din guide"
        reader = Browser()
        from_notice = reader.submit(reader.get(login_link(notice)), "/logga-in/")
        assert "Avlösning" in from_notice.html

        # Answering the check-in on the web moves the journey to its next phase.
        (checkin_link,) = from_notice.links("/fragor/")
        form = reader.get(checkin_link)
        assert form.status == 200
        answered = reader.submit(form, "/fragor/", {"q-ork": "4", "q-kontakt": "yes"})
        assert answered.status == 200, answered.html
        assert "Livet sedan" in reader.get(from_notice.url).html

        # The next notice says that the guide moved on.
        deployment.tick(local(days_after(day0, 33), 9, 0))
        moved_on = deployment.wait_for_mail(4)[-1]
        assert "Din guide har gått vidare till ett nytt skede: Sedan." in moved_on.text()
        assert "Hur går det?" in moved_on.text()

        # One click on the mail client's unsubscribe button, no login, no cookies.
        unsubscribe = str(moved_on.parsed()["List-Unsubscribe"]).strip().strip("<>")
        assert unsubscribe.startswith(deployment.base_url + "/avregistrera/")
        assert moved_on.parsed()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        request = urllib.request.Request(
            unsubscribe, data=b"List-Unsubscribe=One-Click", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 204
        deployment.tick(local(days_after(day0, 63), 9, 0))  # the check-in comes round again
        assert len(deployment.sink.received) == 4  # … but no more mail
        assert "Hur går det?" in reader.get(from_notice.url).html  # the guide itself goes on


def test_the_shipped_guide_mails_a_notice_eight_days_after_activation(
    deployment: Deployment,
) -> None:
    token = set_up_organisation(deployment)
    with deployment.serving():
        code = issue_card(deployment, token, "demenslots")
        status, _ = deployment.api(
            "POST", "/api/v1/activations", {"code": code, "email": EMAIL, "consents": CONSENTS}
        )
        assert status == 201
        deployment.wait_for_mail(1)
        day0 = deployment.activated_on(EMAIL)
        output = deployment.tick(local(days_after(day0, 8), 12, 0))
        mails = deployment.wait_for_mail(2)
        assert "could not be rendered" in output and "0 could not be rendered" in output
        link = login_link(mails[-1])
        assert link.startswith(deployment.base_url + "/logga-in/")
        assert Browser().get(link).status == 200
