"""A bereaved relative who gets the card weeks after the death, as deployed.

The relative redeems an `efterlevande` card on the web and answers "Ungefär när dog
hen?" the Swedish way; the journey starts in the phase the date implies with that
phase's opening text only. The relative then corrects the date on "Dina svar", and the
scheduler, run as `guide scheduler tick --now`, releases the rest on the new days and
nothing twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import SHIPPED_CONTENT
from tests.e2e.deployment import Browser, Deployment, days_after, local, login_link
from tests.e2e.test_relative_journey import CONSENTS, issue_card, set_up_organisation

EMAIL = "bo.berg@example.se"


def released(deployment: Deployment) -> list[str]:
    rows = deployment.query(
        "SELECT r.module_id FROM release r JOIN enrolment e ON e.id = r.enrolment_id "
        "JOIN relative p ON p.id = e.relative_id WHERE p.email = :email",
        email=EMAIL,
    )
    return [row[0] for row in rows]


def phases(deployment: Deployment) -> list[str]:
    rows = deployment.query(
        "SELECT v.phase FROM phase_visit v JOIN enrolment e ON e.id = v.enrolment_id "
        "JOIN relative p ON p.id = e.relative_id WHERE p.email = :email "
        "ORDER BY v.started_at, v.id",
        email=EMAIL,
    )
    return [row[0] for row in rows]


def test_a_late_card_starts_where_the_date_says_and_a_corrected_date_moves_the_rest(
    deployment: Deployment,
) -> None:
    deployment.environment["GUIDE_CONTENT_DIR"] = str(SHIPPED_CONTENT)
    token = set_up_organisation(deployment)
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    death = today - timedelta(days=40)
    with deployment.serving():
        code = issue_card(deployment, token, "efterlevande")
        person = Browser()
        start = person.get(f"{deployment.base_url}/aktivera?kod={code}")
        questions = person.submit(start, "/aktivera", {"code": code})
        assert 'id="q-dodsdatum"' in questions.html
        consent = person.submit(
            questions,
            "/aktivera/fragor",
            {"q-dodsdatum": f"{death.day}/{death.month} {death.year}"},
        )
        fields = {"email": EMAIL, **{f"consent_{k}": "yes" for k, v in CONSENTS.items() if v}}
        journey = person.submit(consent, "/aktivera/samtycke", fields)
        assert journey.status == 200, journey.html

        # Forty days on: the first weeks and months, with their opening text only.
        assert "De första veckorna och månaderna" in journey.html
        assert released(deployment) == ["de-forsta-veckorna"]
        assert phases(deployment) == ["akut", "forsta-tiden"]
        (welcome,) = deployment.wait_for_mail(1)
        reader = Browser()
        mine = reader.submit(reader.get(login_link(welcome)), "/logga-in/")
        day0 = deployment.activated_on(EMAIL)

        # The relative remembers better: it was 110 days ago. The first year starts now.
        (answers_link,) = mine.links("/dina-svar")
        form = reader.get(answers_link)
        assert f'value="{death.isoformat()}"' in form.html
        corrected = today - timedelta(days=110)
        saved = reader.submit(form, "/dina-svar", {"q-dodsdatum": corrected.isoformat()})
        assert saved.status == 200 and "Dina svar är sparade" in saved.html
        assert phases(deployment) == ["akut", "forsta-tiden", "forsta-aret"]
        assert sorted(released(deployment)) == ["de-forsta-veckorna", "forsta-aret"]

        # The first year's next text counts from the corrected date: day 104 + 75. The day
        # before, the latest "Hur har du det?" (every 21 days from the date) goes out alone.
        offset = (days_after(corrected, 104 + 75) - day0).days
        deployment.tick(local(days_after(day0, offset - 1), 9, 0))
        deployment.tick(local(days_after(day0, offset), 8, 59))
        assert "nar-omgivningen-tystnar" not in released(deployment)
        assert "sent 1 e-mail(s)" in deployment.tick(local(days_after(day0, offset), 9, 0))
        modules = released(deployment)
        assert "nar-omgivningen-tystnar" in modules
        assert max(Counter(modules).values()) == 1  # nothing twice
        assert "stod-fran-andra" not in modules  # its phase passed before the card came
