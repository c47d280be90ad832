"""Mina inställningar as deployed: pause → ticks send nothing → resume → exactly one catch-up mail.

Installed `guide` commands, `guide serve` on a real port, a real SMTP server; the
relative uses the settings page by the link in the mail footer, as a person would.
"""

from __future__ import annotations

import re

from tests.conftest import FIXTURE_CONTENT
from tests.e2e.deployment import Browser, Deployment, days_after, local, login_link
from tests.e2e.test_relative_journey import CONSENTS, EMAIL, issue_card, set_up_organisation


def test_a_paused_guide_sends_nothing_until_resumed_then_one_catch_up_mail(
    deployment: Deployment,
) -> None:
    deployment.environment["GUIDE_CONTENT_DIR"] = str(FIXTURE_CONTENT)
    token = set_up_organisation(deployment)
    with deployment.serving():
        code = issue_card(deployment, token, "stod")
        status, body = deployment.api(
            "POST", "/api/v1/activations", {"code": code, "email": EMAIL, "consents": CONSENTS}
        )
        assert status == 201, body
        (welcome,) = deployment.wait_for_mail(1)
        day0 = deployment.activated_on(EMAIL)

        # The footer of every mail leads to Mina inställningar.
        (settings_url,) = [
            link
            for link in re.findall(r"https?://\S+", welcome.text())
            if "/mina-installningar/" in link
        ]
        relative = Browser()
        relative.submit(relative.get(login_link(welcome)), "/logga-in/")
        page = relative.get(settings_url)
        assert page.status == 200 and "Pausa guiden" in page.html
        paused = relative.submit(page, "/mina-installningar/paus/", {})
        assert "Guiden är pausad" in paused.html

        # Three weeks of ticks at 09:00: the check-in (day 3) and the module (day 7) wait.
        # What falls due stays due until a pass takes it, so a tick on each day something
        # falls due, and one at the end, sees everything a tick every day would.
        for day in (1, 3, 7, 10, 14, 21):
            output = deployment.tick(local(days_after(day0, day), 9, 0))
            assert "sent 0 e-mail(s)" in output, output
        assert len(deployment.sink.received) == 1

        resumed = relative.submit(relative.get(settings_url), "/mina-installningar/paus/", {})
        assert "Guiden är igång igen" in resumed.html
        output = deployment.tick(local(days_after(day0, 22), 9, 0))
        assert "sent 1 e-mail(s)" in output, output
        catch_up = deployment.wait_for_mail(2)[-1]
        # What fell due during the pause, in one mail: the modules and the phase it reached.
        assert "Det finns nytt att läsa i Stöd för anhöriga:" in catch_up.text()
        assert "Din guide har gått vidare till ett nytt skede: Sedan." in catch_up.text()
        # Exactly one: the following ticks that day and the next bring nothing more.
        assert "sent 0 e-mail(s)" in deployment.tick(local(days_after(day0, 22), 9, 30))
        assert "sent 0 e-mail(s)" in deployment.tick(local(days_after(day0, 23), 9, 0))
        assert len(deployment.sink.received) == 2
