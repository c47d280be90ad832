"""`guide db …`: Flask-Migrate's commands (SPEC §11: `guide db upgrade`), loaded when one runs.

Alembic comes with them and costs 0.2 s to import; every other command, every web
worker and every scheduler process starts without it.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import ScriptInfo

from guide.extensions import bind_migrations


class _MigrationCommands(click.Command):
    """Stands in for Flask-Migrate's `db` group until it is called, then hands it the call."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        assert parent is not None, "`db` runs under the `guide` group"
        bind_migrations(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db  # noqa: PLC0415 - Alembic only when `db` runs

        commands: click.Group = db
        return commands.make_context(info_name, args, parent=parent, **extra)


database = _MigrationCommands("db", help="Perform database migrations.")
