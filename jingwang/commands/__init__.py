"""CLI command modules; each exposes ``register(app)`` and owns its area's commands."""

from __future__ import annotations

from types import ModuleType

from jingwang.commands import crawl, db, detect, ids, run, sandbox

COMMAND_MODULES: tuple[ModuleType, ...] = (run, crawl, detect, ids, sandbox, db)
