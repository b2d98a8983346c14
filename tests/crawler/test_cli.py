"""``jingwang profile check`` against the live test marketplace."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jingwang.cli import app
from tests.conftest import ROOT
from tests.crawler.conftest import SITE_PROFILE, Hostile, Site

WIDE = {"COLUMNS": "240", "NO_COLOR": "1"}


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["profile", "check", *args], env=WIDE)
    return result.exit_code, result.output


def test_search_page_is_recognised_and_each_selector_reported(site: Site) -> None:
    code, out = check(str(SITE_PROFILE), "/search?q=报告&page=1", "--base-url", site.url)
    assert code == 0, out
    assert "搜索页" in out
    assert "10 项" in out  # search.item matched ten results
    assert f"{site.url}/item/t-001" in out and "（共 10 个）" in out  # search.link
    assert f"{site.url}/search?q=报告&page=2" in out  # search.next
    assert "search.empty" in out and "未找到（可选）" in out
    assert "解析成功：10 个商品链接" in out


def test_detail_page_with_missing_title_reports_nothing_found_and_fails(site: Site) -> None:
    code, out = check(str(SITE_PROFILE), f"{site.url}/item/t-007", "--base-url", site.url)
    assert code == 1
    assert "详情页" in out
    title_row = next(line for line in out.splitlines() if "detail.fields.title" in line)
    assert "未找到" in title_row
    listing_row = next(line for line in out.splitlines() if "detail.fields.listing_id" in line)
    assert "t-007" in listing_row
    assert "解析失败" in out


def test_seller_text_is_printed_literally_not_as_markup(site: Site) -> None:
    code, out = check(str(SITE_PROFILE), "/item/t-005", "--base-url", site.url, "--kind",
                      "detail")
    assert code == 0, out
    assert "[bold red]伪造[/] <i>标题</i>" in out


def test_profile_by_name_from_a_platforms_directory(site: Site, tmp_path: Path) -> None:
    (tmp_path / "testsite.yaml").write_text(SITE_PROFILE.read_text(encoding="utf-8"),
                                            encoding="utf-8")
    code, out = check("testsite", "/item/t-001", "--base-url", site.url,
                      "--platforms-dir", str(tmp_path))
    assert code == 0, out
    assert "t-001" in out
    code, out = check("nosuch", "/x", "--platforms-dir", str(tmp_path))
    assert code != 0


def test_loopback_refused_when_the_profile_does_not_allow_it(site: Site, tmp_path: Path) -> None:
    closed = tmp_path / "closed.yaml"
    closed.write_text(SITE_PROFILE.read_text(encoding="utf-8").replace(
        "allow_loopback: true", "allow_loopback: false"), encoding="utf-8")
    code, out = check(str(closed), "/item/t-001", "--base-url", site.url)
    assert code == 1
    assert "抓取失败（blocked）" in out
    assert site.log.count("/item/") == 0


SPA_PROFILE = str(ROOT / "config" / "platforms" / "sandbox-spa.yaml")


def test_json_api_search_page_shows_paths_and_links(hostile: Hostile) -> None:
    code, out = check(SPA_PROFILE, "/api/search?q=认证&page=1", "--base-url", hostile.url,
                      "--kind", "search")
    assert code == 0, out
    assert "json:items" in out and "20 项" in out
    assert f"{hostile.url}/spa/item/" in out
    assert "解析成功：20 个商品链接" in out


@pytest.mark.browser
def test_browser_profile_page_is_rendered_before_checking(hostile: Hostile) -> None:
    code, out = check(SPA_PROFILE, "/spa/item/sb-000001", "--base-url", hostile.url)
    assert code == 0, out
    listing_row = next(line for line in out.splitlines() if "detail.fields.listing_id" in line)
    assert "sb-000001" in listing_row
    assert "解析成功：商品 sb-000001" in out
    # Without the browser the shell has nothing in it: the check says so.
    code, out = check(SPA_PROFILE, "/spa/item/sb-000001", "--base-url", hostile.url,
                      "--no-browser")
    assert code == 1 and "解析失败" in out


def test_a_blocked_page_is_reported_as_blocked(hostile: Hostile) -> None:
    hostile.faults.challenge = "slider"
    code, out = check(str(ROOT / "config" / "platforms" / "sandbox.yaml"), "/item/sb-000001",
                      "--base-url", hostile.url, "--kind", "detail")
    assert code == 1
    assert "页面被拦截" in out and "#nc_1_wrapper" in out
