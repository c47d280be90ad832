"""The `guide` script (also `python -m guide`): builds the app from the environment and runs a command."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from guide.app import create_app
from guide.cli import COMMANDS
from guide.config import ConfigError
from guide.urls import BaseUrlError


def _create_app() -> Flask:
    try:
        return create_app()
    except (ConfigError, BaseUrlError) as error:
        # A setting an operator can fix: say which and why, not a traceback.
        raise click.ClickException(str(error)) from None


class _GuideGroup(FlaskGroup):
    """Flask's group, without the commands other installed packages offer to every Flask app.

    The commands are the product's own (SPEC §11); Flask-Limiter's `limiter`, say,
    would speak of a storage this process does not share, and loading the plugins
    costs every command 0.1 s.
    """

    def _load_plugin_commands(self) -> None:
        self._loaded_plugin_commands = True


@click.group(cls=_GuideGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Lots: personalised guidance for relatives, released at the right time."""


for _command in COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
