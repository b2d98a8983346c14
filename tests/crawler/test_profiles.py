"""Platform profiles: the shipped ones load, and every mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.profiles import NextLink, PageParam, load_profile, load_profiles
from jingwang.errors import ConfigError
from tests.crawler.conftest import SITE_PROFILE

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name: demo
base_url: "https://shop.example.com/"
search:
  url: "{base_url}/s?q={keyword}&p={page}"
  item: "li.item"
  link: {selector: "a"}
detail:
  fields:
    listing_id: {selector: "meta[name=id]", attr: content}
    title: {selector: "h1"}
"""


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_sandbox_profile_loads() -> None:
    profiles = load_profiles(ROOT / "config" / "platforms")
    sandbox = profiles["sandbox"]
    assert sandbox.allow_loopback is True
    assert sandbox.search is not None and sandbox.search.item == "ul.results li.item"
    assert sandbox.detail.required_fields() == ["listing_id", "title"]
    assert sandbox.search_url("认证", 2) == (
        "http://127.0.0.1:8765/search?q=%E8%AE%A4%E8%AF%81&page=2")


def test_defaults_are_conservative(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.base_url == "https://shop.example.com"
    assert profile.allow_loopback is False
    assert profile.robots == "respect"
    assert profile.render == "static"
    assert profile.rate.concurrency == 2 and profile.rate.delay == 1.0
    assert isinstance(profile.search.pagination, PageParam) if profile.search else False


def test_with_base_url_repoints_templates_and_validates(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD)).with_base_url("http://127.0.0.1:5000/")
    assert profile.search_url("3C 认证", 1) == (
        "http://127.0.0.1:5000/s?q=3C%20%E8%AE%A4%E8%AF%81&p=1")
    with pytest.raises(Exception, match="base_url"):
        profile.with_base_url("ftp://example.com")


def test_gbk_keyword_encoding_and_zero_based_pages(tmp_path: Path) -> None:
    text = GOOD.replace('  item:', '  encoding: gbk\n  pagination: {mode: page, first: 0}\n  item:')
    profile = load_profile(write(tmp_path, text))
    assert profile.search_url("认证", 1) == "https://shop.example.com/s?q=%C8%CF%D6%A4&p=0"


def test_next_link_pagination(tmp_path: Path) -> None:
    text = GOOD.replace("&p={page}", "").replace(
        '  item:', '  pagination: {mode: next_link}\n  next: {selector: "a.next"}\n  item:')
    profile = load_profile(write(tmp_path, text))
    assert profile.search is not None and isinstance(profile.search.pagination, NextLink)


def test_rate_delay_accepts_durations(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD + "rate: {concurrency: 3, delay: 250ms}\n"))
    assert profile.rate.delay == pytest.approx(0.25)


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# (YAML text, line, key, words of the problem)
BAD = {
    "yaml syntax": (_replace('  item: "li.item"', '  item: [li.item'), 6, None, "invalid YAML"),
    "unknown top-level key": (GOOD + "colour: red\n", 11, "colour", "unknown key"),
    "unknown nested key": (_replace('  link: {selector: "a"}', '  link: {selector: "a", at: x}'),
                           6, "search.link.at", "unknown key"),
    "unknown detail field": (GOOD + "    sellr.name: {selector: b}\n", 11,
                             "detail.fields.sellr.name", "unknown key"),
    "bad selector": (_replace('"li.item"', '"li.item["'), 5, "search.item",
                     "invalid CSS selector 'li.item['"),
    "bad field selector": (_replace('{selector: "h1"}', '{selector: "h1 >"}'), 10,
                           "detail.fields.title.selector", "invalid CSS selector"),
    "missing section": (GOOD.split("detail:")[0], 1, "detail", "required key is missing"),
    "missing title": (_replace('    title: {selector: "h1"}\n', ""), 8, "detail.fields.title",
                      "required key is missing"),
    "unknown placeholder": (_replace("q={keyword}", "q={kw}"), 4, "search.url",
                            "unknown placeholder {kw}"),
    "missing page placeholder": (_replace("&p={page}", ""), 4, "search.url",
                                 "must contain the {page} placeholder"),
    "format spec": (_replace("{page}", "{page:03d}"), 4, "search.url", "format spec"),
    "unbalanced brace": (_replace("{page}", "{page"), 4, "search.url", "malformed URL template"),
    "next_link without next": (_replace("&p={page}", "").replace(
        '  item:', '  pagination: {mode: next_link}\n  item:'), 3, "search",
        "needs search.next"),
    "bad pattern": (_replace('{selector: "h1"}', '{selector: "h1", pattern: "([0-9"}'), 10,
                    "detail.fields.title.pattern", "invalid regular expression"),
    "unknown required field": (GOOD + "  required: [title, colour]\n", 11, "detail.required",
                               "unknown field 'colour'"),
    "required without selector": (GOOD + "  required: [title, price]\n", 11, "detail.required",
                                  "'price' has no selector"),
    "header injection": (GOOD + 'headers: {X-A: "a\\r\\nHost: evil"}\n', 11, "headers",
                         "line break"),
    "bad base_url": (_replace('"https://shop.example.com/"', '"shop.example.com"'), 2,
                     "base_url", "http(s) URL"),
    "bad name": (_replace("name: demo", "name: Demo Shop"), 1, "name", "lower-case"),
    "bad render": (GOOD + "render: chrome\n", 11, "render", "'static' or 'browser'"),
    "bad robots": (GOOD + "robots: maybe\n", 11, "robots", "'respect' or 'ignore'"),
    "bad concurrency": (GOOD + "rate: {concurrency: 0}\n", 11, "rate.concurrency",
                        "greater than or equal to 1"),
    "selector and path": (_replace('{selector: "h1"}', '{selector: "h1", path: title}'), 10,
                          "detail.fields.title", "exactly one of selector"),
    "bad json path": (_replace('{selector: "h1"}', '{path: "items[x"}'), 10,
                      "detail.fields.title.path", "invalid JSON path"),
    "json_api with css link": (_replace("  item:", "  pagination: {mode: json_api}\n  item:")
                               .replace('"li.item"', "items"), 3, "search",
                               "link needs a JSON path"),
    "link template without value": (_replace("  item:", "  pagination: {mode: json_api}\n  item:")
                                    .replace('"li.item"', "items").replace(
                                        'link: {selector: "a"}',
                                        'link: {path: id, template: "{base_url}/i"}'),
                                    7, "search.link", "{value} placeholder"),
    "scroll without browser": (_replace("&p={page}", "").replace(
        "  item:", "  pagination: {mode: infinite_scroll}\n  item:"), 1, None,
        "infinite_scroll needs render: browser"),
    "bad proxy": (GOOD + "proxies: [\"ftp://proxy:21\"]\n", 11, "proxies",
                  "http(s):// or socks5://"),
    "missing cookie file": (GOOD + "cookies_file: nowhere.txt\n", 11, "cookies_file",
                            "not found"),
    "user agent line break": (GOOD + 'user_agent: "a\\nb"\n', 11, "user_agent", "one"),
    "bad block pattern": (GOOD + "blocks: {url_patterns: ['(x']}\n", 11,
                          "blocks.url_patterns.0", "invalid regular expression"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_profile_errors_name_file_line_and_key(tmp_path: Path, case: str) -> None:
    text, line, key, problem = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    error = info.value
    message = str(error)
    assert error.path == str(path)
    assert error.line == line, message
    assert error.key == key, message
    assert message.startswith(f"{path}:{line}"), message
    assert problem in message


def test_duplicate_profile_names_name_the_second_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, GOOD, "b.yml")
    with pytest.raises(ConfigError, match="duplicate profile name 'demo'") as info:
        load_profiles(tmp_path)
    assert info.value.path == str(second) and info.value.key == "name"


def test_missing_profile_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="directory not found"):
        load_profiles(tmp_path / "nowhere")


def test_shipped_spa_profile_loads() -> None:
    from crawler.profiles import JsonApi

    spa = load_profiles(ROOT / "config" / "platforms")["sandbox-spa"]
    assert spa.render == "browser" and spa.search is not None
    assert isinstance(spa.search.pagination, JsonApi) and spa.search.pagination.more == "has_more"
    assert spa.search_url("认证", 2).endswith("/api/search?q=%E8%AE%A4%E8%AF%81&page=2")


def test_cookie_file_is_found_next_to_the_profile(tmp_path: Path) -> None:
    (tmp_path / "session.json").write_text(
        '[{"name": "sid", "value": "x", "domain": ".shop.example.com"}]', encoding="utf-8")
    profile = load_profile(write(tmp_path, GOOD + "cookies_file: session.json\n"))
    assert profile.cookies_file == tmp_path / "session.json"
    (tmp_path / "bad.txt").write_text("shop.example.com\tTRUE\t/\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.txt:1: expected 7 tab-separated fields"):
        load_profile(write(tmp_path, GOOD + "cookies_file: bad.txt\n"))


def test_test_site_profile_is_valid() -> None:
    assert load_profile(SITE_PROFILE).name == "testsite"
