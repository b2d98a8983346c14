"""The shipped sandbox profile crawls the real sandbox marketplace over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.events import CrawlEvent, FetchFailed, PageDone, ParseFailure, Removed
from crawler.fetch_http import HttpFetcher
from crawler.parse import SearchPage, parse_detail, parse_search
from crawler.profiles import Profile, load_profile
from crawler.run import crawl_source
from jingwang.config import SourceConfig
from jingwang.records import CrawledListing, Listing
from sandbox.data import generate
from tests.conftest import SANDBOX_SEED
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
    async def go() -> object:
        async with HttpFetcher(profile) as fetcher:
            capture = await fetcher.fetch(f"{profile.base_url}/item/sb-999999999")
        return parse_detail(profile, capture, platform="sandbox")

    assert isinstance(run(go()), Removed)


def test_shop_source_lists_the_shops_listings(profile: Profile) -> None:
    catalog = generate(SANDBOX_SEED)
    shops = [catalog.shops[0].id, catalog.shops[1].id]
    source = SourceConfig(name="shops", platform="sandbox", kind="shop", shops=shops, pages=3)

    async def go() -> list[CrawlEvent]:
        async with HttpFetcher(profile) as fetcher:
            return [e async for e in crawl_source(source, profile, fetcher)]

    events = run(go())
    found = [e.listing for e in events if isinstance(e, CrawledListing)]
    expected = [item.id for shop in shops for item in catalog.shop_listings(shop)]
    assert [listing.listing_id for listing in found] == expected
    assert all(listing.seller.shop_id in shops for listing in found)
    # A shop page without {page} in its URL is one page: no second request per shop.
    assert [(e.keyword, e.page) for e in events if isinstance(e, PageDone)] == [
        (shops[0], 1), (shops[1], 1)]


def test_json_paths_read_listing_fields_from_the_api(sandbox_url: str) -> None:
    """A profile may read listings straight from a JSON API, field by field."""
    profile = Profile.model_validate({
        "name": "sandbox-api", "base_url": sandbox_url, "allow_loopback": True,
        "detail": {"fields": {
            "listing_id": {"path": "id"}, "title": {"path": "$.title"},
            "description": {"path": "description"}, "price": {"path": "price"},
            "images": {"path": "images[*]", "many": True},
            "seller.name": {"path": "seller.name"}, "seller.shop_id": {"path": "seller.id"},
            "seller.credit_code": {"path": "seller.credit_code"},
            "seller.license_text": {"path": "seller.license_text"}}}})
    catalog = generate(SANDBOX_SEED)
    item = next(i for i in catalog.listings if i.images and "\n" in i.description)
    shop = catalog.shop(item.shop_id)
    assert shop is not None

    async def go(listing_id: str) -> object:
        async with HttpFetcher(profile) as fetcher:
            capture = await fetcher.fetch(f"{sandbox_url}/api/item/{listing_id}")
        return parse_detail(profile, capture, platform="sandbox-api")

    listing = run(go(item.id))
    assert isinstance(listing, Listing)
    assert (listing.listing_id, listing.title, listing.description, listing.price) == (
        item.id, item.title, item.description, item.price)
    assert listing.images == tuple(f"{sandbox_url}{src}" for src in item.images)
    assert listing.seller.name == shop.name and listing.seller.shop_id == shop.id
    assert listing.seller.credit_code == shop.credit_code
    assert isinstance(run(go("sb-999999")), Removed)  # the API's 404
