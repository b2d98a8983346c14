"""``jingwang db``: migrate the database schema (upgrade, downgrade, current)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

db_app = typer.Typer(help="数据库结构迁移（Alembic）。", no_args_is_help=True)

DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="数据库 URL，覆盖配置文件和 JINGWANG_DATABASE_URL。")]
ConfigPath = Annotated[Path | None, typer.Option(
    "--config", help="配置文件路径（默认 config/jingwang.yaml 或 JINGWANG_CONFIG）。")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the jingwang app."""
    app.add_typer(db_app, name="db")


def _database_url(database_url: str | None, config: Path | None) -> str:
    if database_url:
        return database_url
    from jingwang.config import load_settings

    return load_settings(config).database_url


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a bad URL, an unknown revision or an unreachable server into one clear line."""
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, OperationalError

    from store.errors import StoreError

    try:
        yield
    except (ArgumentError, CommandError, OperationalError, StoreError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(f"错误：{problem}", err=True)
        raise typer.Exit(1) from exc


@db_app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Option("--revision", help="目标版本（默认 head）。")] = "head",
    database_url: DatabaseUrl = None,
    config: ConfigPath = None,
) -> None:
    """升级数据库结构到指定版本。"""
    from store.db import current_revision, upgrade

    url = _database_url(database_url, config)
    with _user_errors():
        upgrade(url, revision)
        typer.echo(f"数据库 {_shown(url)} 已升级到 {current_revision(url) or '（空）'}")
        _queue_schema(url)


def _queue_schema(url: str) -> None:
    """On PostgreSQL, also create the crawl queue's tables (procrastinate's own schema)."""
    from jingwang.jobs import apply_schema, is_postgresql

    if is_postgresql(url) and apply_schema(url):
        typer.echo("已创建抓取任务队列（procrastinate）的表")


@db_app.command("downgrade")
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="目标版本：版本号、-1 或 base。")],
    database_url: DatabaseUrl = None,
    config: ConfigPath = None,
) -> None:
    """降级数据库结构到指定版本（会删除数据）。"""
    from store.db import current_revision, downgrade

    url = _database_url(database_url, config)
    with _user_errors():
        downgrade(url, revision)
        typer.echo(f"数据库 {_shown(url)} 已降级到 {current_revision(url) or '（空）'}")


@db_app.command("current")
def current_command(database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """显示数据库当前的结构版本。"""
    from store.db import current_revision, head_revision

    url = _database_url(database_url, config)
    with _user_errors():
        revision = current_revision(url)
        head = head_revision()
    state = "最新" if revision == head else f"最新为 {head}，请运行 jingwang db upgrade"
    typer.echo(f"{revision or '（未迁移）'}（{state}）")
