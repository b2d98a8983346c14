"""crawl_source end to end over real HTTP on the test marketplace."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from crawler.events import CrawlEvent, FetchFailed, PageDone, ParseFailure, Removed
from crawler.fetch_http import FetchOptions, HttpFetcher
from crawler.profiles import Profile
from crawler.run import crawl_source
from jingwang.config import SourceConfig
from jingwang.errors import ConfigError
from jingwang.records import CrawledListing
from tests.crawler.conftest import Site, run
from tests.crawler.site import CATALOGUE, GONE, NO_TITLE

FAST = FetchOptions(backoff=0.01, attempts=2)


def source(**kw: Any) -> SourceConfig:
    data: dict[str, Any] = {"name": "test-source", "platform": "testsite", "keywords": ["报告"],
                            "pages": 5}
    data.update(kw)
    return SourceConfig.model_validate(data)


def crawl(src: SourceConfig, profile: Profile, *,
          on_event: Callable[[CrawlEvent, asyncio.Event], None] | None = None) -> list[CrawlEvent]:
    async def go() -> list[CrawlEvent]:
        stop = asyncio.Event()
        events: list[CrawlEvent] = []
        async with HttpFetcher(profile, options=FAST) as fetcher:
            async for event in crawl_source(src, profile, fetcher, stop=stop):
                events.append(event)
                if on_event:
                    on_event(event, stop)
        return events

    return run(go())


def of(events: list[CrawlEvent], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_crawl_follows_pages_until_there_is_no_next_page(site: Site) -> None:
    events = crawl(source(), site.profile)
    listings = of(events, CrawledListing)
    ids = {c.listing.listing_id for c in listings}
    expected = {i.id for i in CATALOGUE} - {NO_TITLE, GONE}
    assert ids == expected and len(listings) == len(expected)  # each once
    assert [(p.page, p.listings) for p in of(events, PageDone)] == [(1, 9), (2, 9), (3, 5)]
    assert site.log.count("/search") == 3  # page 3 had no next link: pages 4, 5 never asked
    assert [f.url for f in of(events, ParseFailure)] == [f"{site.url}/item/{NO_TITLE}"]
    assert of(events, ParseFailure)[0].missing == ("title",)
    assert of(events, Removed) == [Removed(f"{site.url}/item/{GONE}")]
    assert not of(events, FetchFailed)
    assert isinstance(events[-1], PageDone)


def test_crawled_listings_carry_capture_source_and_parsed_fields(site: Site) -> None:
    events = crawl(source(pages=1), site.profile)
    rich = next(c for c in of(events, CrawledListing) if c.listing.listing_id == "t-003")
    assert rich.source == "test-source"
    assert rich.capture.status == 200 and rich.capture.url == f"{site.url}/item/t-003"
    listing = rich.listing
    assert listing.platform == "testsite"
    assert listing.title == "CMA 检测报告 当天出证"
    assert listing.description == "第一段 文字\n第二段\n换行后\n包过加粗"
    assert listing.price == "99.00"
    assert listing.images == (f"{site.url}/img/a.png", f"{site.url}/item/b.png")
    assert listing.seller.name == "shop-3" and listing.seller.shop_id == "shop-3"
    assert listing.seller.credit_code == "91350100M000100Y43"
    assert listing.seller.license_text == "营业执照\n经营范围：检验检测"
    hostile = next(c for c in of(events, CrawledListing) if c.listing.listing_id == "t-005")
    assert hostile.listing.title == "[bold red]伪造[/] <i>标题</i>"


def test_detail_urls_are_fetched_once_per_run(site: Site) -> None:
    events = crawl(source(keywords=["报告", "认证"]), site.profile)
    assert all(n == 1 for path, n in site.log.hits.items() if path.startswith("/item/"))
    assert site.log.count("/item/") == len(CATALOGUE)
    # The second keyword's pages still finish, with no new listings.
    assert [p for p in of(events, PageDone) if p.keyword == "认证"] == [
        PageDone("认证", 1, 0), PageDone("认证", 2, 0)]


def test_empty_result_stops_after_the_first_page(site: Site) -> None:
    events = crawl(source(keywords=["没有这个词"]), site.profile)
    assert events == [PageDone("没有这个词", 1, 0)]
    assert site.log.count("/search") == 1


def test_without_a_next_selector_pages_run_until_an_empty_page(site: Site) -> None:
    assert site.profile.search is not None
    profile = site.profile.model_copy(update={
        "search": site.profile.search.model_copy(update={"next": None})})
    events = crawl(source(), profile)
    assert [(p.page, p.listings) for p in of(events, PageDone)] == [
        (1, 9), (2, 9), (3, 5), (4, 0)]
    assert site.log.count("/search") == 4


def test_pages_limit_is_respected(site: Site) -> None:
    events = crawl(source(pages=1), site.profile)
    assert [p.page for p in of(events, PageDone)] == [1]
    assert site.log.count("/search") == 1


def test_next_link_pagination(site: Site) -> None:
    base = Profile.model_validate({
        **site.profile.model_dump(by_alias=True),
        "search": {"pagination": {"mode": "next_link"}, "url": "{base_url}/search?q={keyword}",
                   "item": "ul.results li.item", "link": {"selector": "a.item-link"},
                   "next": {"selector": "a.next"}, "empty": "div.empty"}})
    events = crawl(source(), base)
    assert [(p.page, p.listings) for p in of(events, PageDone)] == [(1, 9), (2, 9), (3, 5)]


def test_changed_layout_is_a_parse_failure_not_an_empty_result(site: Site) -> None:
    assert site.profile.search is not None
    profile = site.profile.model_copy(update={"search": site.profile.search.model_copy(
        update={"url": "{base_url}/broken-search?q={keyword}&page={page}"})})
    events = crawl(source(), profile)
    assert len(events) == 1 and isinstance(events[0], ParseFailure)
    assert events[0].missing == ("search.item",)
    assert site.log.count("/item/") == 0


def test_unreachable_search_page_is_a_fetch_failure(site: Site) -> None:
    from tests.servers import free_port

    profile = site.profile.with_base_url(f"http://127.0.0.1:{free_port()}")
    events = crawl(source(keywords=["报告", "认证"]), profile)
    assert [type(e) for e in events] == [FetchFailed, FetchFailed]  # one per keyword
    assert all(isinstance(e, FetchFailed) and e.kind == "network" for e in events)


def test_stop_finishes_the_current_page_then_returns(site: Site) -> None:
    def stop_at_first_listing(event: CrawlEvent, stop: asyncio.Event) -> None:
        if isinstance(event, CrawledListing):
            stop.set()

    events = crawl(source(keywords=["报告", "认证"]), site.profile, on_event=stop_at_first_listing)
    assert len(of(events, CrawledListing)) == 9  # all of page 1, nothing more
    assert of(events, PageDone) == [PageDone("报告", 1, 9)]
    assert isinstance(events[-1], PageDone)
    assert site.log.count("/search") == 1


def test_url_sources_fetch_detail_pages(site: Site) -> None:
    urls = [f"{site.url}/item/t-001", f"{site.url}/item/t-001#again", f"{site.url}/item/zz"]
    events = crawl(source(kind="urls", keywords=[], urls=urls), site.profile)
    assert [type(e) for e in events] == [CrawledListing, Removed, PageDone]
    assert site.log.hits["/item/t-001"] == 1


def test_shop_sources_need_a_shop_section(site: Site) -> None:
    with pytest.raises(ConfigError, match="no shop section"):
        crawl(source(kind="shop", shops=["shop-1"]), site.profile)
