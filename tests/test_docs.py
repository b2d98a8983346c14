"""Every CLI command and every config key is documented (a Datasette habit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
from pydantic import BaseModel

from jingwang.cli import app
from jingwang.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in
                 [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def command_paths(command: Any, prefix: str = "jingwang") -> list[str]:
    subcommands = getattr(command, "commands", None)  # a group, whichever click it is
    if subcommands:
        return [path for name, sub in subcommands.items()
                for path in command_paths(sub, f"{prefix} {name}")]
    return [prefix]


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        keys.append(f"{prefix}{name}")
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        for candidate in (annotation, *args):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys.extend(config_keys(candidate, f"{prefix}{name}."))
    return keys


def test_every_cli_command_is_documented() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert "jingwang db upgrade" in paths and "jingwang run" in paths  # the walk found them
    missing = [path for path in paths
               if path.replace("jingwang ", "", 1) not in DOCS]
    assert not missing, f"undocumented commands: {missing}"


def test_every_config_key_is_documented() -> None:
    missing = [key for key in config_keys(Settings)
               if f"`{key}`" not in DOCS and f"`{key.rsplit('.', 1)[-1]}`" not in DOCS]
    assert not missing, f"undocumented config keys: {missing}"
