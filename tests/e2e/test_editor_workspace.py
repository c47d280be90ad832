"""Two editors publish through the installed product; export, check and sync round-trip the result."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURE_CONTENT
from tests.e2e.deployment import Deployment


def test_editors_publish_over_the_api_and_export_check_sync_round_trips(
    deployment: Deployment, tmp_path: Path
) -> None:
    content = tmp_path / "git-content"
    shutil.copytree(FIXTURE_CONTENT, content)
    deployment.environment["GUIDE_CONTENT_DIR"] = str(content)
    deployment.guide("org", "create", "--slug", "kommunen", "--name", "Kommunen")
    tokens = []
    for name in ("anna", "bo"):
        deployment.guide(
            "staff", "create", "--org", "kommunen", "--email", f"{name}@redaktion.se",
            "--role", "editor",
        )  # fmt: skip
        tokens.append(
            deployment.guide("staff", "token", "--email", f"{name}@redaktion.se").split()[-1]
        )
    anna, bo = tokens
    source = (content / "stod/modules/sedan.md").read_text(encoding="utf-8")
    with deployment.serving():
        status, listing = deployment.api("GET", "/api/v1/editor/modules?guide=stod", token=anna)
        assert status == 200, listing
        base = next(m["live_version"] for m in listing["modules"] if m["module"] == "sedan")
        status, draft = deployment.api(
            "POST", "/api/v1/editor/drafts",
            {"guide": "stod", "module": "sedan", "base_version": base,
             "source": source.replace("en ny tid", "en annan tid")},
            anna,
        )  # fmt: skip
        assert status == 201 and draft["problems"] == [], draft
        url = f"/api/v1/editor/drafts/{draft['id']}"
        assert deployment.api("POST", f"{url}/submit", {}, anna)[0] == 200
        status, refused = deployment.api("POST", f"{url}/review", {"decision": "approve"}, anna)
        assert status == 403 and refused["error"] == "self_review"
        assert deployment.api("POST", f"{url}/review", {"decision": "approve"}, bo)[0] == 200
        status, published = deployment.api("POST", f"{url}/publish", {}, bo)
        assert status == 200 and published["version"] != base, published

    status, output = deployment.guide_exit("content", "sync")
    assert status != 0 and "stod/sedan" in output  # the folder is older than the browser
    exported = tmp_path / "exported"
    assert "written: stod/sedan" in deployment.guide("content", "export", str(exported))
    assert "0 error(s)" in deployment.guide("content", "check", str(exported))
    assert "0 new version(s)" in deployment.guide("content", "sync", str(exported))
    assert "en annan tid" in (exported / "stod/modules/sedan.md").read_text(encoding="utf-8")
