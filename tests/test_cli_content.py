"""`guide content check` from the command line: problems printed as path:line: message, exit 1."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from guide.__main__ import main
from tests.pure.test_content_checker import edit


def test_check_command_prints_problems_and_exits_non_zero(content_copy: Path) -> None:
    path = edit(content_copy, "stod/modules/sedan.md", "phase: sedan", "phase: senare")
    result = CliRunner().invoke(main, ["content", "check", str(content_copy)])
    assert result.exit_code == 1
    assert f"{path}:4: the module names unknown phase 'senare'" in result.output


def test_check_command_exits_zero_on_good_content(content_copy: Path) -> None:
    result = CliRunner().invoke(main, ["content", "check", str(content_copy)])
    assert result.exit_code == 0, result.output
