"""The pure core is pure by construction, not by luck: importing it loads neither Flask nor SQLAlchemy.

Each check runs in a fresh interpreter, so nothing another test imported can hide
an import that the module under test makes itself.
"""

from __future__ import annotations

import json
import subprocess
import sys

PURE_MODULES = [
    "scheduler.planner",
    "scheduler.rules",
    "scheduler.simulate",
    "scheduler.followups",
    "activation_codes.codes",
    "guide.content",
    "guide.content.model",
    "guide.content.yamlsource",
    "guide.content.loader",
    "guide.content.references",
    "guide.content.checker",
    "guide.content.readability",
    "guide.content.render",
    "guide.errors",
    "guide.suppression",
]
FORBIDDEN = ("flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "apscheduler", "psycopg")


def imports_in_order(modules: list[str]) -> dict[str, list[str]]:
    """Import `modules` one by one in a fresh interpreter; return what each one newly loaded."""
    program = (
        "import importlib, json, sys\n"
        "seen, new = set(sys.modules), {}\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    new[name] = sorted(set(sys.modules) - seen)\n"
        "    seen = set(sys.modules)\n"
        "print(json.dumps(new))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout))


def test_importing_the_pure_core_loads_neither_flask_nor_sqlalchemy() -> None:
    loaded = imports_in_order(PURE_MODULES)
    leaks = {
        module: [name for name in names if name.split(".")[0] in FORBIDDEN][:3]
        for module, names in loaded.items()
    }
    assert {module: names for module, names in leaks.items() if names} == {}
