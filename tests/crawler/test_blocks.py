"""Captchas, sliders, login walls and anti-bot pages are blocks: never listings, never removals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.events import Blocked, CrawlEvent, PageDone, Removed
from crawler.fetch_http import FetchOptions, HttpFetcher
from crawler.parse import parse_detail
from crawler.profiles import Profile, load_profile
from crawler.run import crawl_source
from jingwang.config import SourceConfig
from jingwang.records import Capture, CrawledListing, Listing
from tests.crawler.conftest import PLATFORMS, Hostile, run

FAST = FetchOptions(attempts=2, backoff=0.01)
URLS = [f"/item/sb-00000{i}" for i in range(1, 6)]


def crawl(hostile: Hostile, profile: Profile, source: SourceConfig) -> tuple[list[CrawlEvent],
                                                                             float]:
    # Errors grow the host's delay; keep that short here (the growth is tested elsewhere).
    profile = profile.with_changes(rate={**profile.rate.model_dump(), "max_delay": 0.05})

    async def go() -> tuple[list[CrawlEvent], float]:
        async with HttpFetcher(profile, options=FAST) as fetcher:
            events = [e async for e in crawl_source(source, profile, fetcher)]
            return events, fetcher.gate(hostile.url).paused_for

    return run(go())


def urls_source(hostile: Hostile, paths: list[str] = URLS) -> SourceConfig:
    return SourceConfig(name="blocks", platform="sandbox", kind="urls",
                        urls=[hostile.url + p for p in paths])


def without_markers(profile: Profile) -> Profile:
    """The profile with no block section: only the generic signs are left."""
    return profile.with_changes(blocks={})


@pytest.mark.parametrize("kind", ["captcha", "slider", "interstitial"])
@pytest.mark.parametrize("markers", [True, False], ids=["profile-markers", "generic-signs"])
def test_challenge_pages_block_the_crawl(hostile: Hostile, kind: str, markers: bool) -> None:
    hostile.faults.challenge = kind
    profile = hostile.profile() if markers else without_markers(hostile.profile())
    events, paused = crawl(hostile, profile, urls_source(hostile))
    blocked = [e for e in events if isinstance(e, Blocked)]
    assert blocked and not [e for e in events if isinstance(e, CrawledListing | Removed)]
    assert all(e.capture is not None for e in blocked)
    assert paused > 60  # the host gets no request for a while
    # The crawl stopped: the first page's details ran together, no later page started.
    assert not [e for e in events if isinstance(e, PageDone)]


def test_login_wall_is_a_block_and_a_session_cookie_gets_through(hostile: Hostile,
                                                                 tmp_path: Path) -> None:
    hostile.faults.login_wall = True
    events, _ = crawl(hostile, hostile.profile(), urls_source(hostile, URLS[:1]))
    assert [type(e) for e in events] == [Blocked]
    assert "登录" in events[0].reason  # type: ignore[union-attr]
    assert hostile.hits("/login") == 1

    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       "127.0.0.1\tFALSE\t/\tFALSE\t0\tsb_session\tok\n", encoding="utf-8")
    logged_in = hostile.profile().with_changes(cookies_file=str(cookies))
    events, _ = crawl(hostile, logged_in, urls_source(hostile, URLS[:1]))
    assert [type(e) for e in events] == [CrawledListing, PageDone]


def test_a_removed_listing_behind_a_captcha_is_not_a_removal(hostile: Hostile) -> None:
    hostile.faults.removed = ["sb-000001"]
    events, _ = crawl(hostile, hostile.profile(), urls_source(hostile, URLS[:1]))
    assert [type(e) for e in events] == [Removed, PageDone]  # without the captcha: removed
    hostile.faults.challenge = "captcha"
    events, _ = crawl(hostile, hostile.profile(), urls_source(hostile, URLS[:1]))
    assert [type(e) for e in events] == [Blocked]


def test_a_404_with_challenge_text_is_a_block() -> None:
    page = ("<html><body><h2>请完成安全验证</h2><div id='nc_1_wrapper'>拖动滑块</div>"
            "</body></html>").encode()
    capture = Capture(url="https://shop.example/item/1", final_url="https://shop.example/item/1",
                      status=404, fetched_at=datetime.now(UTC), headers={}, body=page, tool="t")
    profile = without_markers(load_profile(PLATFORMS / "sandbox.yaml"))
    assert isinstance(parse_detail(profile, capture, platform="x"), Blocked)
    plain = Capture(url=capture.url, final_url=capture.url, status=404,
                    fetched_at=capture.fetched_at, headers={}, body=b"<p>not here</p>", tool="t")
    assert isinstance(parse_detail(profile, plain, platform="x"), Removed)


def test_seller_text_cannot_make_a_listing_look_blocked(hostile: Hostile) -> None:
    hostile.faults.edits = {"sb-000002": "请完成安全验证 请输入验证码 请登录 当天出证"}
    events, _ = crawl(hostile, without_markers(hostile.profile()),
                      urls_source(hostile, URLS[1:2]))
    assert [type(e) for e in events] == [CrawledListing, PageDone]
    listing = events[0].listing  # type: ignore[union-attr]
    assert isinstance(listing, Listing) and listing.title.startswith("请完成安全验证")


def test_a_blocked_search_page_stops_every_keyword(hostile: Hostile) -> None:
    hostile.faults.challenge = "captcha"
    source = SourceConfig(name="s", platform="sandbox", keywords=["认证", "证书"], pages=3)
    events, _ = crawl(hostile, hostile.profile(), source)
    assert [type(e) for e in events] == [Blocked]
    assert hostile.hits("/search") == 1 and hostile.hits("/item/") == 0


def test_429_after_every_retry_is_throttling_not_a_block(hostile: Hostile) -> None:
    hostile.faults.limit_429, hostile.faults.retry_after = 100, 0
    source = SourceConfig(name="s", platform="sandbox", keywords=["认证", "证书"], pages=3)
    events, _ = crawl(hostile, hostile.profile(), source)
    assert [type(e).__name__ for e in events] == ["FetchFailed", "FetchFailed"]
    assert all(e.kind == "rate_limited" for e in events)  # type: ignore[union-attr]
