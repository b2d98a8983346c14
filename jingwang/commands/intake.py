"""``jingwang submit URL…`` (complaint URLs) and ``jingwang import FILE`` (platform data files)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from jingwang.commands.run import ConfigOpt
from jingwang.config import DEFAULT_CONFIG, Settings, load_settings

if TYPE_CHECKING:
    from jingwang.daemon import Components

_MAX_ERRORS_SHOWN = 50


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("import")(import_data)


def _components(settings: Settings, config: Path, base_urls: dict[str, str],
                screenshots: bool | None) -> Components:
    from crawler.fetch_browser import chromium_available
    from jingwang.daemon import build

    components = build(settings, config_path=config, base_urls=base_urls)
    components.pipeline.screenshots = (chromium_available() if screenshots is None
                                       else screenshots)
    return components


def submit(
    urls: Annotated[list[str], typer.Argument(help="商品网址（可多个）")],
    config: ConfigOpt = DEFAULT_CONFIG,
    source: Annotated[str, typer.Option(
        "--source", help="记录本次提交所用的来源名称（如投诉编号）")] = "submit",
    platform: Annotated[str | None, typer.Option(
        "--platform", help="配合 --base-url：把该平台指向另一个地址")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="平台的另一个地址（例如本地测试服务器），需同时给出 --platform")] = None,
    screenshots: Annotated[bool | None, typer.Option(
        "--screenshots/--no-screenshots", help="为命中的商品截全页图（默认：有 Chromium 时）")
    ] = None,
) -> None:
    """检查并抓取群众举报等提交的商品网址：解析、检测、入库，与定时抓取相同。"""
    from crawler.profiles import load_profiles
    from jingwang.intake import check_submitted
    from jingwang.intake import submit as run_submit
    from jingwang.logs import setup_logging

    setup_logging(level="WARNING")
    console = Console(highlight=False)
    settings = load_settings(config)
    if (platform is None) != (base_url is None):
        raise typer.BadParameter("--platform 和 --base-url 需同时给出")
    base_urls = {platform: base_url} if platform and base_url else {}
    profiles = load_profiles(settings.platforms_dir)
    if platform is not None and platform not in profiles:
        raise typer.BadParameter(f"没有名为 {platform!r} 的平台配置")
    shown = {name: (p.with_base_url(base_urls[name]) if name in base_urls else p)
             for name, p in profiles.items()}
    accepted, refused = check_submitted(urls, shown)
    if refused:
        # Nothing is stored when any URL is refused: the user fixes the list and resubmits.
        for refusal in refused:
            console.print(Text(f"拒绝：{refusal.url} —— {refusal.reason}", style="bold red"))
        console.print(Text("未保存任何内容。", style="red"))
        raise typer.Exit(2)
    components = _components(settings, config, base_urls, screenshots)
    summaries = asyncio.run(run_submit(accepted, pipeline=components.pipeline,
                                       source_name=source))
    table = Table(title="提交结果")
    for column in ("来源", "状态", "商品", "新版本", "命中", "新线索", "下架", "被拦截", "错误"):
        table.add_column(column, justify="right")
    for s in summaries:
        table.add_row(Text(s.source), s.status, str(s.listings), str(s.new_versions),
                      str(s.findings), str(s.leads_created), str(s.removed), str(s.blocked),
                      str(s.errors + s.parse_failures))
    console.print(table)
    if any(s.status not in ("ok", "partial") for s in summaries):
        raise typer.Exit(1)


def import_data(
    file: Annotated[Path, typer.Argument(help="数据文件：.csv、.xlsx 或 .jsonl")],
    platform: Annotated[str, typer.Option("--platform", help="这些商品所属的平台名称")],
    mapping: Annotated[list[str] | None, typer.Option(
        "--mapping", help="列名=字段，如 商品ID=listing_id（可多次给出）")] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    source: Annotated[str | None, typer.Option(
        "--source", help="来源名称（默认 import-平台名）")] = None,
) -> None:
    """导入平台提供的商品数据文件：逐行检测并入库，坏行按行号报告。"""
    from jingwang.daemon import build
    from jingwang.imports import import_file, parse_mapping

    console = Console(highlight=False)
    settings = load_settings(config)
    columns = parse_mapping(mapping or [])
    components = build(settings, config_path=config)
    report = import_file(file, platform=platform, store=components.store,
                         detect=components.suite.detect,
                         channels=[c.name for c in settings.channels], mapping=columns,
                         source_name=source)
    console.print(Text(f"{file}：共 {report.rows} 行，导入 {report.stored} 条，新版本 "
                       f"{report.new_versions}，命中 {report.findings} 处，新线索 "
                       f"{report.leads_created} 条，坏行 {len(report.errors)} 行。"))
    for error in report.errors[:_MAX_ERRORS_SHOWN]:
        console.print(Text(f"第 {error.line} 行：{error.problem}", style="red"))
    if len(report.errors) > _MAX_ERRORS_SHOWN:
        console.print(Text(f"……另有 {len(report.errors) - _MAX_ERRORS_SHOWN} 行错误未列出",
                           style="red"))
    if report.errors:
        raise typer.Exit(1)
