"""Crawler commands: ``jingwang profile check`` tries a platform profile on one live page."""

from __future__ import annotations

import asyncio
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crawler.check import PageCheck, PageKind, check_page, guess_kind
from crawler.events import Blocked, ParseFailure, Removed
from crawler.fetch_browser import BrowserFetcher, BrowserPool, BrowserUnavailable
from crawler.fetch_http import FetchError, HttpFetcher
from crawler.parse import SearchPage
from crawler.profiles import JsonApi, Profile, load_profile, load_profiles
from jingwang.config import DEFAULT_CONFIG, load_settings
from jingwang.errors import ConfigError
from jingwang.records import Capture

profile_app = typer.Typer(help="平台配置：检查选择器能否在真实页面上提取到内容。",
                          no_args_is_help=True)

_MAX_SHOWN = 80  # characters of an extracted value shown in the table


class Kind(StrEnum):
    search = "search"
    shop = "shop"
    detail = "detail"


_KIND_NAMES = {"search": "搜索页", "shop": "店铺页", "detail": "详情页"}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the jingwang app."""
    app.add_typer(profile_app, name="profile")


def find_profile(name_or_path: str, platforms_dir: Path | None) -> Profile:
    """A profile by file path, or by name among the configured platform profiles."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_profile(path)
    if platforms_dir is None:
        config = os.environ.get("JINGWANG_CONFIG") or DEFAULT_CONFIG
        platforms_dir = (load_settings().platforms_dir if Path(config).is_file()
                         else Path("config/platforms"))
    profiles = load_profiles(platforms_dir)
    if name_or_path not in profiles:
        known = ", ".join(sorted(profiles)) or "无"
        raise ConfigError(platforms_dir, f"没有名为 {name_or_path!r} 的平台配置（已有：{known}）")
    return profiles[name_or_path]


def _shorten(value: str) -> str:
    value = value.replace("\n", " ⏎ ")
    return value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN - 1] + "…"


def _cell(values: tuple[str, ...], required: bool) -> Text:
    # Text objects, never markup strings: page content is seller-written.
    if not values:
        return Text("未找到" + ("" if required else "（可选）"), style="bold red")
    text = Text(_shorten(values[0]))
    if len(values) > 1:
        text.append(f"  （共 {len(values)} 个）", style="dim")
    return text


def _summary(check: PageCheck) -> Text:
    outcome = check.outcome
    if isinstance(outcome, ParseFailure):
        return Text(f"解析失败：{outcome.message or ', '.join(outcome.missing)}", style="bold red")
    if isinstance(outcome, Blocked):
        return Text(f"页面被拦截：{outcome.reason}", style="bold red")
    if isinstance(outcome, Removed):
        return Text("商品已下架（removed 标记或 HTTP 404/410）", style="yellow")
    if isinstance(outcome, SearchPage):
        if outcome.empty:
            return Text("搜索结果为空（empty 标记存在）", style="yellow")
        more = f"，下一页：{outcome.next_url}" if outcome.next_url else "，没有下一页"
        return Text(f"解析成功：{len(outcome.item_urls)} 个商品链接{more}", style="green")
    return Text(f"解析成功：商品 {outcome.listing_id}「{_shorten(outcome.title)}」", style="green")


async def _fetch(profile: Profile, url: str, kind: Kind | None, browser: bool) -> Capture:
    """The page as the crawl would read it: rendered in Chromium for browser profiles
    (except JSON API pages), else over plain HTTP."""
    async with HttpFetcher(profile) as fetcher:
        spec = profile.search if kind is Kind.search else profile.shop if kind is Kind.shop \
            else None
        json_api = spec is not None and isinstance(spec.pagination, JsonApi)
        if not browser or profile.render != "browser" or json_api:
            return await fetcher.fetch(url)
        wait_for = profile.detail.wait_for if kind in (None, Kind.detail) else (
            spec.wait_for or spec.item if spec is not None else None)
        async with BrowserPool(size=2) as pool:
            return await BrowserFetcher(pool, fetcher, timeout=profile.browser.timeout,
                                        wait_timeout=profile.browser.wait_timeout
                                        ).fetch(url, wait_for=wait_for)


@profile_app.command("check")
def check(
    profile: Annotated[str, typer.Argument(help="平台配置名称，或配置文件路径（.yaml）")],
    url: Annotated[str, typer.Argument(help="要检查的页面 URL；以 / 开头时相对于 base_url")],
    kind: Annotated[Kind | None, typer.Option(
        "--kind", help="页面类型；默认按哪些选择器能匹配来判断")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="覆盖配置中的 base_url（例如本地测试服务器）")] = None,
    platforms_dir: Annotated[Path | None, typer.Option(
        "--platforms-dir", help="平台配置目录；默认取配置文件中的 platforms_dir")] = None,
    browser: Annotated[bool, typer.Option(
        "--browser/--no-browser", help="render: browser 的配置是否用 Chromium 渲染页面")] = True,
) -> None:
    """抓取一个页面，列出配置中每个选择器提取到的内容。"""
    chosen = find_profile(profile, platforms_dir)
    if base_url is not None:
        chosen = chosen.with_base_url(base_url)
    if not url.startswith(("http://", "https://")):
        url = chosen.base_url + "/" + url.lstrip("/")
    console = Console(highlight=False)
    if chosen.render == "browser" and not browser:
        console.print(Text("注意：此配置使用浏览器渲染，--no-browser 只做静态抓取，"
                           "结果可能与爬取时不同。", style="yellow"))
    try:
        capture = asyncio.run(_fetch(chosen, url, kind, browser))
    except FetchError as exc:
        console.print(Text(f"抓取失败（{exc.kind}）：{exc.message}", style="bold red"))
        raise typer.Exit(1) from None
    except BrowserUnavailable as exc:
        console.print(Text(f"无法启动浏览器：{exc}（可加 --no-browser）", style="bold red"))
        raise typer.Exit(1) from None
    page_kind: PageKind = kind.value if kind is not None else guess_kind(chosen, capture)
    result = check_page(chosen, capture, page_kind)
    table = Table(title=Text(f"{chosen.name} · {_KIND_NAMES[page_kind]}"
                             f" · HTTP {capture.status} · {capture.final_url}"))
    table.add_column("配置项", no_wrap=True)
    table.add_column("选择器", overflow="fold")
    table.add_column("提取结果", overflow="fold")
    for row in result.results:
        table.add_row(Text(row.key + (" *" if row.required else "")), Text(row.selector),
                      _cell(row.values, row.required))
    console.print(table)
    console.print(Text("* 为必需项；必需项未找到时页面按解析失败处理。", style="dim"))
    console.print(_summary(result))
    if not result.ok:
        raise typer.Exit(1)
