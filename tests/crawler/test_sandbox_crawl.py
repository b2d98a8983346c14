"""The shipped sandbox profile crawls the real sandbox marketplace over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.events import CrawlEvent, FetchFailed, PageDone, ParseFailure
from crawler.fetch_http import HttpFetcher
from crawler.parse import SearchPage, parse_search
from crawler.profiles import Profile, load_profile
from crawler.run import crawl_source
from jingwang.config import SourceConfig
from jingwang.records import CrawledListing
from tests.crawler.conftest import run

pytest.importorskip("sandbox.server", reason="the sandbox server is not built yet")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def profile(sandbox_url: str) -> Profile:
    return load_profile(ROOT / "config" / "platforms" / "sandbox.yaml").with_base_url(sandbox_url)


def test_keyword_page_one_parses_every_listing(profile: Profile) -> None:
    source = SourceConfig(name="sandbox-test", platform="sandbox", keywords=["认证"], pages=1)

    async def go() -> tuple[SearchPage, list[CrawlEvent]]:
        async with HttpFetcher(profile) as fetcher:
            page = parse_search(profile, await fetcher.fetch(profile.search_url("认证", 1)))
            assert isinstance(page, SearchPage)
            return page, [e async for e in crawl_source(source, profile, fetcher)]

    page, events = run(go())
    listings = [e for e in events if isinstance(e, CrawledListing)]
    assert page.item_urls and not page.empty
    assert not [e for e in events if isinstance(e, (ParseFailure, FetchFailed))]
    assert [e for e in events if isinstance(e, PageDone)] == [
        PageDone("认证", 1, len(page.item_urls))]
    assert sorted(c.capture.url for c in listings) == sorted(page.item_urls)
    for crawled in listings:
        listing = crawled.listing
        assert listing.platform == "sandbox"
        assert listing.listing_id.startswith("sb-")
        assert crawled.capture.url.endswith(f"/item/{listing.listing_id}")
        assert listing.title.strip() and listing.seller.name.strip()
        assert listing.seller.shop_id and listing.seller.shop_id.startswith("shop-")
        assert listing.price is None or listing.price[0].isdigit()


def test_unknown_listing_is_removed(profile: Profile) -> None:
    from crawler.events import Removed
    from crawler.parse import parse_detail

    async def go() -> object:
        async with HttpFetcher(profile) as fetcher:
            capture = await fetcher.fetch(f"{profile.base_url}/item/sb-999999999")
        return parse_detail(profile, capture, platform="sandbox")

    assert isinstance(run(go()), Removed)
