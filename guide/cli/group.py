"""The command line's one error surface: a domain error ends a command with its sentence."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from guide.errors import GuideError


class CommandGroup(AppGroup):
    """A group of `guide` commands (run in an app context) that prints domain errors plainly.

    A command does not catch and translate: a GuideError raised below it becomes
    "Error: <sentence>" and exit status 1, as any other click usage error.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GuideError as error:
            raise click.ClickException(error.message) from None
