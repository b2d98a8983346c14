"""``jingwang run``: the daemon."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from jingwang.config import DEFAULT_CONFIG, load_settings

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="config file",
                                         envvar="JINGWANG_CONFIG")]


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(config: ConfigOpt = DEFAULT_CONFIG,
        with_sandbox: Annotated[bool, typer.Option(
            help="also serve the offline demo marketplace")] = False,
        web: Annotated[bool, typer.Option(help="serve the web UI")] = True,
        json_logs: Annotated[bool, typer.Option("--json-logs", help="JSON log lines")] = False,
        ) -> None:
    """Run the daemon: crawl every source on its interval, alert, and serve the web UI."""
    from jingwang.daemon import Daemon, build
    from jingwang.logs import setup_logging

    setup_logging(json_logs=json_logs)
    settings = load_settings(config)
    base_urls: dict[str, str] = {}
    sandbox_app = None
    if with_sandbox:
        from sandbox.server import create_app

        sandbox_app = create_app(seed=settings.sandbox.seed)
        base_urls["sandbox"] = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    components = build(settings, config_path=config, base_urls=base_urls)
    asyncio.run(Daemon(components, serve_web=web, sandbox_app=sandbox_app).serve())
