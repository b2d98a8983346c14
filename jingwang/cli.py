"""The ``jingwang`` command: one Typer app; each area registers its own commands."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from jingwang.commands import COMMAND_MODULES
from jingwang.errors import ConfigError

app = typer.Typer(
    name="jingwang",
    help="净网 — marketplace listing monitor for false-certification campaigns.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in COMMAND_MODULES:
    module.register(app)


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
