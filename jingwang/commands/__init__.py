"""CLI command modules; each exposes ``register(app)`` and owns its area's commands."""

from __future__ import annotations

from types import ModuleType

from jingwang.commands import (
    alerts,
    crawl,
    db,
    detect,
    evidence,
    export,
    ids,
    intake,
    pipeline,
    run,
    sandbox,
    users,
    worker,
)

COMMAND_MODULES: tuple[ModuleType, ...] = (run, pipeline, crawl, detect, ids, sandbox, db,
                                           users, export, intake, evidence, alerts,
                                           worker)
