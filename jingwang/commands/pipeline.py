"""``jingwang crawl SOURCE``: one run of one source, with a progress bar and a summary table."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from jingwang.commands.run import ConfigOpt
from jingwang.config import DEFAULT_CONFIG, load_settings

if TYPE_CHECKING:
    from jingwang.pipeline import RunSummary

# (RunSummary attribute, column title) of the summary table, in order.
SUMMARY_COLUMNS = (("pages", "页数"), ("listings", "商品"), ("new_versions", "新版本"),
                   ("findings", "命中"), ("leads_created", "新线索"), ("removed", "下架"),
                   ("blocked", "被拦截"), ("errors", "抓取错误"), ("parse_failures", "解析失败"),
                   ("screenshots", "截图"))
_STATUS = {"ok": "完成", "partial": "部分完成", "failed": "失败", "interrupted": "已中断",
           "skipped": "跳过（退避中）", "running": "运行中"}


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl)


def _counts(summary: RunSummary) -> str:
    return (f"商品 {summary.listings} · 命中 {summary.findings} · 错误 "
            f"{summary.errors + summary.parse_failures} · 被拦截 {summary.blocked}")


def summary_table(summary: RunSummary) -> Table:
    table = Table(title=Text(f"{summary.source} · 第 {summary.run_id} 次运行 · "
                             f"{_STATUS.get(summary.status, summary.status)}"))
    for _name, title in SUMMARY_COLUMNS:
        table.add_column(title, justify="right")
    table.add_row(*(str(getattr(summary, name)) for name, _title in SUMMARY_COLUMNS))
    return table


def crawl(source: Annotated[str, typer.Argument(help="配置文件中的来源名称")],
          config: ConfigOpt = DEFAULT_CONFIG,
          base_url: Annotated[str | None, typer.Option(
              help="把该来源的平台指向这个地址（例如本地测试服务器）")] = None,
          force: Annotated[bool, typer.Option(
              "--force", help="即使来源因被拦截正在退避也立即抓取")] = False,
          screenshots: Annotated[bool | None, typer.Option(
              "--screenshots/--no-screenshots",
              help="为命中的商品截全页图（默认：有 Chromium 时）")
          ] = None,
          ) -> None:
    """抓取一个来源一次：显示进度条，结束时给出汇总表。"""
    from crawler.fetch_browser import chromium_available
    from jingwang.daemon import build
    from jingwang.logs import setup_logging

    setup_logging(level="WARNING")
    settings = load_settings(config)
    chosen = next((s for s in settings.sources if s.name == source), None)
    if chosen is None:
        names = ", ".join(s.name for s in settings.sources) or "无"
        raise typer.BadParameter(f"{config} 中没有名为 {source!r} 的来源（已有：{names}）")
    base_urls = {chosen.platform: base_url} if base_url else {}
    components = build(settings, config_path=config, base_urls=base_urls)
    pipeline = components.pipeline
    pipeline.screenshots = chromium_available() if screenshots is None else screenshots
    console = Console(highlight=False)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("页"), TextColumn("{task.fields[counts]}"),
                        TimeElapsedColumn(), console=console, transient=True)

    with progress:
        task = progress.add_task(chosen.name, total=None, counts="")

        def update(summary: RunSummary) -> None:
            total = max(summary.planned_pages, summary.pages) or None
            progress.update(task, completed=summary.pages, total=total,
                            counts=_counts(summary))

        summary = asyncio.run(pipeline.run_source(chosen, on_progress=update, force=force))
    console.print(summary_table(summary))
    if summary.error:
        console.print(Text(summary.error, style="yellow" if summary.status == "skipped"
                           else "red"))
    raise typer.Exit(0 if summary.status in ("ok", "partial", "skipped") else 1)
