"""Every command of SPEC §11 as an operator runs it: a subprocess, environment only, exit 0.

`guide db upgrade` runs for every deployment (the fixture), `guide serve`,
`guide scheduler tick` and `guide scheduler run` in the journey and scheduler tests;
the rest run here, each once, and say something a person can act on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import SHIPPED_CONTENT
from tests.e2e.deployment import LINK, Browser, Deployment
from tests.e2e.test_relative_journey import set_up_organisation


def test_content_check_and_sync_publish_the_shipped_guides(deployment: Deployment) -> None:
    checked = deployment.guide("content", "check", str(SHIPPED_CONTENT))
    assert "0 error(s)" in checked
    synced = deployment.guide("content", "sync")
    assert "new version: demenslots/" in synced
    assert "0 new version(s)" in deployment.guide("content", "sync")  # idempotent


def test_content_check_fails_and_names_the_line_of_a_broken_guide(
    deployment: Deployment, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    (broken / "stod" / "modules").mkdir(parents=True)
    (broken / "local.yaml").write_text("{}\n")
    (broken / "stod" / "guide.yaml").write_text("id: stod\ntitle: {sv: Stöd}\nphases: 3\n")
    status, output = deployment.guide_exit("content", "check", str(broken))
    assert status == 1
    assert "stod/guide.yaml:1: missing field 'languages'" in output


def test_org_unit_and_staff_create_print_a_set_password_link_that_works(
    deployment: Deployment,
) -> None:
    deployment.guide("org", "create", "--slug", "kommunen", "--name", "Kommunen")
    deployment.guide(
        "unit", "create", "--org", "kommunen", "--slug", "enhet", "--name", "Enheten",
        "--contact", "Ring enheten",
    )  # fmt: skip
    created = deployment.guide(
        "staff", "create", "--org", "kommunen", "--email", "chef@kommunen.se",
        "--role", "org_admin",
    )  # fmt: skip
    (link,) = LINK.findall(created)
    assert link.startswith(deployment.base_url + "/personal/losenord/")
    with deployment.serving():
        browser = Browser()
        form = browser.get(link)
        assert form.status == 200 and "chef@kommunen.se" in form.html
        password = "ett-riktigt-langt-losenord"
        done = browser.submit(
            form, "/personal/losenord/", {"password": password, "password2": password}
        )
        assert done.status == 200, done.html
        assert done.url.endswith("/personal/logga-in") and "Lösenordet är sparat" in done.html
        assert browser.get(link).status == 404  # the link works once


def test_staff_token_prints_a_token_the_api_accepts(deployment: Deployment) -> None:
    token = set_up_organisation(deployment)
    with deployment.serving():
        status, body = deployment.api("GET", "/api/v1/cards", token=token)
    assert status == 200, body


def test_cards_issue_writes_a_printable_pdf(deployment: Deployment) -> None:
    set_up_organisation(deployment)
    out = deployment.root / "kort.pdf"
    output = deployment.guide(
        "cards", "issue", "--org", "kommunen", "--unit", "anhorigstod", "--guide", "demenslots",
        "--count", "9", "--out", str(out),
    )  # fmt: skip
    assert "Issued 9 cards" in output
    assert out.read_bytes().startswith(b"%PDF")


def test_a_command_with_a_wrong_setting_says_which_and_why(deployment: Deployment) -> None:
    deployment.environment["GUIDE_BASE_URL"] = "lots.kommun.se"
    status, output = deployment.guide_exit("scheduler", "tick")
    assert status == 1
    assert "GUIDE_BASE_URL must be the service's public address" in output
    assert "Traceback" not in output


def test_guide_offers_the_products_commands_and_only_db_loads_alembic(
    deployment: Deployment,
) -> None:
    listing = deployment.guide("--help").split("Commands:")[1]
    commands = {line.split()[0] for line in listing.splitlines() if line.startswith("  ")}
    spec = {"cards", "content", "db", "org", "scheduler", "serve", "staff", "unit"}
    assert commands == spec | {"translations"}  # no other installed package's plugin
    assert "upgrade" in deployment.guide("db", "--help")
    assert "(head)" in deployment.guide("db", "current")
    # Alembic and reportlab cost every process 0.3 s to import: a tick runs without them.
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "guide", "scheduler", "tick"],
        env=deployment.environment,
        cwd=deployment.root,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert traced.returncode == 0, traced.stdout + traced.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in traced.stderr.splitlines()}
    assert "guide.app" in imported
    assert imported & {"alembic", "flask_migrate", "reportlab", "segno"} == set()
