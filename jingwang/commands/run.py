"""``jingwang run``: the daemon (one machine), or its scheduler or web role (many machines)."""

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
        web: Annotated[bool | None, typer.Option(
            help="serve the web UI (default: on, except for --role scheduler)")] = None,
        role: Annotated[str, typer.Option(
            help="all: schedule and crawl here (one machine); scheduler: queue crawls for "
                 "`jingwang worker` (PostgreSQL); web: only the web UI")] = "all",
        ops_port: Annotated[int | None, typer.Option(
            min=1, max=65535, help="without the web UI: serve /healthz, /readyz and "
                                   "/metrics on this port")] = None,
        json_logs: Annotated[bool, typer.Option("--json-logs", help="JSON log lines")] = False,
        ) -> None:
    """Run the daemon: crawl every source on its interval, alert, and serve the web UI."""
    from jingwang.daemon import ROLES, Daemon, build
    from jingwang.errors import ConfigError
    from jingwang.jobs import is_postgresql
    from jingwang.logs import setup_logging

    if role not in ROLES:
        raise typer.BadParameter(f"one of {', '.join(ROLES)}", param_hint="--role")
    setup_logging(json_logs=json_logs)
    settings = load_settings(config)
    if role == "scheduler" and not is_postgresql(settings.database_url):
        raise ConfigError(config, "--role scheduler queues crawls in PostgreSQL; this is "
                          "not a PostgreSQL URL (with SQLite, run `jingwang run` alone)",
                          key="database_url")
    base_urls: dict[str, str] = {}
    sandbox_app = None
    if with_sandbox:
        from sandbox.server import create_app

        sandbox_app = create_app(seed=settings.sandbox.seed)
        base_urls["sandbox"] = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    components = build(settings, config_path=config, base_urls=base_urls,
                       resilient=role == "all", ingest_process=role == "all")
    serve_web = web if web is not None else role != "scheduler"
    asyncio.run(Daemon(components, role=role, serve_web=serve_web, sandbox_app=sandbox_app,
                       ops_port=ops_port).serve())
