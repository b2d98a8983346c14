"""Rendering in the Debian Chromium: pooled tabs, infinite scroll, and no network of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from crawler.events import CrawlEvent, PageDone, Removed
from crawler.fetch_browser import BrowserFetcher, BrowserPool, BrowserUnavailable
from crawler.fetch_http import FetchOptions, HttpFetcher
from crawler.parse import parse_detail
from crawler.profiles import Profile, load_profile
from crawler.run import crawl_source
from jingwang.config import SourceConfig
from jingwang.records import CrawledListing, Listing
from sandbox.data import generate
from tests.conftest import SANDBOX_SEED
from tests.crawler.conftest import HERE, Hostile, run

pytestmark = pytest.mark.browser
T = TypeVar("T")
FAST = FetchOptions(attempts=2, backoff=0.01)


def with_browser(profile: Profile,
                 work: Callable[[BrowserFetcher, HttpFetcher], Awaitable[T]]) -> T:
    async def go() -> T:
        async with BrowserPool(size=3) as pool, HttpFetcher(profile, options=FAST) as http:
            return await work(BrowserFetcher(pool, http, timeout=20, wait_timeout=5), http)

    return run(go())


def test_infinite_scroll_loads_a_page_per_scroll_until_the_end(hostile: Hostile) -> None:
    profile = load_profile(HERE / "spa-scroll.yaml").with_base_url(hostile.url)
    expected = [item.id for item in generate(SANDBOX_SEED).search("信用")]
    assert len(expected) == 21  # two screens: 20, then 1, then the end of the list
    source = SourceConfig(name="scroll", platform="sandbox-scroll", keywords=["信用"], pages=5)

    async def work(browser: BrowserFetcher, http: HttpFetcher) -> list[CrawlEvent]:
        return [e async for e in crawl_source(source, profile, http, browser=browser)]

    events = with_browser(profile, work)
    assert [(e.page, e.listings) for e in events if isinstance(e, PageDone)] == [(1, 20), (2, 1)]
    found = [e.listing.listing_id for e in events if isinstance(e, CrawledListing)]
    assert found == expected
    assert hostile.log.paths("/api/search") == ["/api/search"] * 2  # one API call per scroll
    assert hostile.hits("/spa/search") == 1  # one page, scrolled


def test_removed_spa_listing_and_pooled_tabs(hostile: Hostile) -> None:
    hostile.faults.removed = ["sb-000002"]
    profile = load_profile(HERE.parents[1] / "config/platforms/sandbox-spa.yaml"
                           ).with_base_url(hostile.url)
    ids = [f"sb-00000{i}" for i in range(1, 8)]

    async def work(browser: BrowserFetcher, http: HttpFetcher) -> tuple[list[object], int]:
        results = []
        for listing_id in ids:
            capture = await browser.fetch(f"{hostile.url}/spa/item/{listing_id}",
                                          wait_for="article.listing, div.removed")
            results.append(parse_detail(profile, capture, platform="sandbox-spa"))
        return results, browser.pool.tabs_opened

    results, opened = with_browser(profile, work)
    assert isinstance(results[1], Removed)
    listings = [r for r in results if isinstance(r, Listing)]
    assert [r.listing_id for r in listings] == [i for i in ids if i != "sb-000002"]
    assert opened == 1  # seven pages, one after another, in one reused tab


def test_the_browser_has_no_network_of_its_own(hostile: Hostile) -> None:
    """Without the crawler answering its requests, Chromium cannot reach anything."""
    async def go() -> str:
        async with BrowserPool(size=2) as pool, pool.tab() as tab:
            await tab.context.unroute("**/*")
            try:
                await tab.page.goto(f"{hostile.url}/spa/", timeout=5000)
            except Exception as exc:  # playwright's Error
                return str(exc)
            return "reached"

    outcome = run(go())
    assert "ERR_PROXY_CONNECTION_FAILED" in outcome
    assert hostile.hits("/spa/") == 0


def test_a_missing_chromium_is_a_clear_error(tmp_path: object) -> None:
    async def go() -> None:
        async with BrowserPool(executable="/nonexistent/chromium") as pool:
            await pool.browser()

    with pytest.raises(BrowserUnavailable, match="/nonexistent/chromium"):
        run(go())
