"""``jingwang worker``: run queued crawl jobs (the many-machine mode, PostgreSQL only)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from jingwang.config import DEFAULT_CONFIG, load_settings

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="config file",
                                         envvar="JINGWANG_CONFIG")]


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(config: ConfigOpt = DEFAULT_CONFIG,
           concurrency: Annotated[int | None, typer.Option(
               min=1, max=64, help="crawl jobs run at once (default: queue.concurrency)")]
           = None,
           ops_port: Annotated[int | None, typer.Option(
               min=1, max=65535, help="serve /healthz, /readyz and /metrics on this port")]
           = None,
           apply_schema: Annotated[bool, typer.Option(
               "--apply-schema", help="create the queue's tables first if they are missing "
                                      "(jingwang db upgrade does it too)")] = False,
           json_logs: Annotated[bool, typer.Option("--json-logs", help="JSON log lines")]
           = False,
           ) -> None:
    """Run crawl jobs queued by `jingwang run --role scheduler`; start as many as needed."""
    from jingwang.daemon import build
    from jingwang.errors import ConfigError
    from jingwang.jobs import apply_schema as apply_queue_schema
    from jingwang.jobs import is_postgresql, schema_present
    from jingwang.logs import setup_logging
    from jingwang.worker import CrawlWorker

    setup_logging(json_logs=json_logs)
    settings = load_settings(config)
    if not is_postgresql(settings.database_url):
        raise ConfigError(config, "jingwang worker takes crawl jobs from PostgreSQL; this is "
                          "not a PostgreSQL URL (with SQLite, run `jingwang run` alone)",
                          key="database_url")
    if apply_schema:
        apply_queue_schema(settings.database_url)
    elif not schema_present(settings.database_url):
        typer.echo("错误：数据库中没有任务队列的表；请先运行 jingwang db upgrade "
                   "（或 jingwang worker --apply-schema）", err=True)
        raise typer.Exit(1)
    components = build(settings, config_path=config, resilient=True, ingest_process=True)
    asyncio.run(CrawlWorker(components, concurrency=concurrency or settings.queue.concurrency,
                            ops_port=ops_port).serve())
