"""Crawl one source: result pages (search or shop), then their listings, as a stream of events."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from urllib.parse import urlsplit, urlunsplit

from crawler.blocks import text_block, trusted_block
from crawler.events import Blocked, CrawlEvent, FetchFailed, PageDone, ParseFailure, Removed
from crawler.fetch_browser import BrowserFetcher
from crawler.fetch_http import FetchError, HttpFetcher
from crawler.parse import decode_body, parse_detail, parse_search
from crawler.profiles import InfiniteScroll, JsonApi, ListSpec, NextLink, Profile
from jingwang.config import SourceConfig
from jingwang.errors import ConfigError
from jingwang.records import Capture, CrawledListing

URL_BATCH = 20  # a urls source reports progress every this many URLs
# After a block the host gets no request for this long, whatever else still runs.
BLOCK_PAUSE = 300.0


def _dedup_key(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower(),
                                     fragment=""))


def source_profile(profile: Profile, source: SourceConfig) -> Profile:
    """The profile with the source's own robots, user agent and proxies, where it sets them.

    Sources may override these per source (``robots``, ``user_agent``, ``proxies``);
    a source model without those keys leaves the profile as it is.
    """
    changes = {key: value for key in ("robots", "user_agent", "proxies")
               if (value := getattr(source, key, None)) not in (None, [])}
    return profile.with_changes(**changes) if changes else profile


def blocked_answer(profile: Profile, capture: Capture) -> str | None:
    """Why an error answer (a 5xx after every retry) is a block page, if it is one."""
    return trusted_block(profile, capture) or text_block(profile, decode_body(capture))


class _Run:
    """State of one crawl_source call: the source, the detail URLs already seen, a halt flag."""

    def __init__(self, source: SourceConfig, profile: Profile, fetcher: HttpFetcher,
                 browser: BrowserFetcher | None, stop: asyncio.Event | None) -> None:
        self.source = source
        self.profile = profile
        self.fetcher = fetcher
        self.browser = browser
        self.stop = stop
        self.halted = False  # a block ends the whole run
        self.seen: set[str] = set()
        # The fetcher limits each host; this bounds the tasks one page starts.
        self.details = asyncio.Semaphore(profile.rate.concurrency)

    @property
    def done(self) -> bool:
        return self.halted or (self.stop is not None and self.stop.is_set())

    def fresh(self, urls: list[str]) -> list[str]:
        out = []
        for url in urls:
            key = _dedup_key(url)
            if key not in self.seen:
                self.seen.add(key)
                out.append(url)
        return out

    def halt(self, event: Blocked) -> None:
        """Stop the run and keep the host's other requests away for a while."""
        self.halted = True
        self.fetcher.pause_host(event.url, BLOCK_PAUSE)

    async def page(self, url: str, wait_for: str | None) -> Capture:
        """A page as the profile says to read it: plain HTTP, or rendered in the browser."""
        if self.profile.render == "browser":
            if self.browser is None:
                raise ConfigError(f"platform profile {self.profile.name}",
                                  "render: browser needs a browser (Chromium) for this crawl",
                                  key="render")
            return await self.browser.fetch(url, wait_for=wait_for)
        return await self.fetcher.fetch(url)

    def failed(self, exc: FetchError) -> FetchFailed | Blocked:
        # A 5xx after every retry may be an anti-bot page ("checking your browser" is
        # often a 503). A 429 is throttling whatever it says: it stays a fetch failure.
        if exc.kind == "status" and exc.capture is not None:
            reason = blocked_answer(self.profile, exc.capture)
            if reason is not None:
                return Blocked(exc.url, reason, exc.capture)
        return FetchFailed(exc.url, exc.kind, exc.message)

    async def detail(self, url: str) -> CrawlEvent:
        async with self.details:
            if self.halted:  # a block elsewhere on this page: do not knock again
                return FetchFailed(url, "cancelled", "run stopped before this page")
            detail = self.profile.detail
            wait_for = ", ".join(s for s in (detail.wait_for, detail.removed,
                                             *self.profile.blocks.selectors) if s) or None
            try:
                capture = await self.page(url, wait_for)
            except FetchError as exc:
                return self.failed(exc)
        result = parse_detail(self.profile, capture, platform=self.source.platform)
        if isinstance(result, Removed | Blocked):
            return result
        if capture.status >= 400:  # e.g. 400 or 409: neither a listing nor a removal
            return FetchFailed(url, "status", f"HTTP {capture.status}")
        if isinstance(result, ParseFailure):
            return result
        return CrawledListing(listing=result, capture=capture, source=self.source.name)

    async def details_of(self, urls: list[str]) -> list[CrawlEvent]:
        """Fetch and parse detail pages concurrently; events come back in page order.

        A block cancels the page's other fetches (they would wait out the host's
        pause); those pages are left out.
        """
        tasks = [asyncio.create_task(self.detail(url)) for url in urls]
        try:
            pending: set[asyncio.Task[CrawlEvent]] = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    event = task.result()
                    if isinstance(event, Blocked) and not self.halted:
                        self.halt(event)
                if self.halted:
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    break
        finally:
            for task in tasks:  # the caller was cancelled: take the children with it
                task.cancel()
        events: list[CrawlEvent] = []
        for task in tasks:
            if not task.done() or task.cancelled():
                continue
            event = task.result()
            if not (isinstance(event, FetchFailed) and event.kind == "cancelled"):
                events.append(event)
        return events

    async def listings_of(self, label: str, number: int,
                          urls: list[str]) -> AsyncIterator[CrawlEvent]:
        """The listings of one result page (``urls`` not seen before), then its PageDone
        (none when a block stopped the page half-way)."""
        listings = 0
        for event in await self.details_of(urls):
            listings += isinstance(event, CrawledListing)
            yield event
        if not self.halted:
            yield PageDone(keyword=label, page=number, listings=listings)

    async def pages(self, spec: ListSpec, label: str,
                    url_of: Callable[[int], str | None]) -> AsyncIterator[CrawlEvent]:
        """Result pages of one keyword or shop, each followed by its listings.

        ``url_of(n)`` is the URL of page ``n``, or None when there is no such page.
        """
        first = url_of(1)
        if first is None:
            return
        if isinstance(spec.pagination, InfiniteScroll):
            async for event in self.scrolled(spec, label, first):
                yield event
            return
        json_api = isinstance(spec.pagination, JsonApi)
        url: str | None = first
        visited: set[str] = set()
        previous: list[str] | None = None
        for number in range(1, self.source.pages + 1):
            if url is None or self.done:
                return
            visited.add(_dedup_key(url))
            wait_for = ", ".join(s for s in (spec.wait_for, spec.item, spec.empty) if s)
            try:
                # A JSON API is read over plain HTTP even for a browser profile.
                capture = (await self.fetcher.fetch(url) if json_api
                           else await self.page(url, wait_for))
            except FetchError as exc:
                event = self.failed(exc)
                if isinstance(event, Blocked):
                    self.halt(event)
                yield event
                return
            result = parse_search(self.profile, capture, spec)
            if isinstance(result, Blocked):
                self.halt(result)
                yield result
                return
            if capture.status >= 400:
                yield FetchFailed(url, "status", f"{spec.where()} page: HTTP {capture.status}")
                return
            if isinstance(result, ParseFailure):
                yield result
                return
            async for event in self.listings_of(label, number, self.fresh(result.item_urls)):
                yield event
            # A platform that ignores the page number serves the same page forever.
            if result.empty or result.more is False or result.item_urls == previous:
                return
            previous = result.item_urls
            if isinstance(spec.pagination, NextLink) or (spec.next is not None and not json_api):
                url = result.next_url
                if url is not None and _dedup_key(url) in visited:
                    return
            else:
                url = url_of(number + 1)

    async def scrolled(self, spec: ListSpec, label: str, url: str) -> AsyncIterator[CrawlEvent]:
        """An infinite list in the browser: each scroll that loads results is a page."""
        assert isinstance(spec.pagination, InfiniteScroll)
        if self.browser is None:
            raise ConfigError(f"platform profile {self.profile.name}",
                              "pagination mode infinite_scroll needs a browser (Chromium)",
                              key=f"{spec.where()}.pagination")
        snapshots = self.browser.scroll(url, item=spec.item, wait_for=spec.wait_for,
                                        rounds=self.source.pages, pause=spec.pagination.pause)
        number = 0
        try:
            async with aclosing(snapshots):
                async for capture in snapshots:
                    number += 1
                    result = parse_search(self.profile, capture, spec)
                    if isinstance(result, Blocked):
                        self.halt(result)
                        yield result
                        return
                    if capture.status >= 400:
                        yield FetchFailed(url, "status",
                                          f"{spec.where()} page: HTTP {capture.status}")
                        return
                    if isinstance(result, ParseFailure):
                        yield result
                        return
                    async for event in self.listings_of(label, number,
                                                        self.fresh(result.item_urls)):
                        yield event
                    if result.empty or self.done:
                        return
        except FetchError as exc:
            event = self.failed(exc)
            if isinstance(event, Blocked):
                self.halt(event)
            yield event


def _search_page(profile: Profile, keyword: str, page: int) -> str | None:
    return profile.search_url(keyword, page)


def _shop_page(profile: Profile, shop: str, page: int) -> str | None:
    """A shop's page ``page``; a shop given as a URL, or a template without {page}, has one."""
    assert profile.shop is not None
    numbered = "{page}" in profile.shop.url and not shop.startswith(("http://", "https://"))
    if page > 1 and not numbered:
        return None
    return profile.shop_url(shop, page)


async def crawl_source(source: SourceConfig, profile: Profile, fetcher: HttpFetcher, *,
                       browser: BrowserFetcher | None = None,
                       stop: asyncio.Event | None = None
                       ) -> AsyncGenerator[CrawlEvent, None]:
    """Crawl ``source`` with ``profile``: keywords or shops × their pages, then listings.

    Yields a :class:`CrawledListing`, :class:`ParseFailure`, :class:`FetchFailed`,
    :class:`Removed` or :class:`Blocked` per detail page and a :class:`PageDone`
    per result page. A detail URL is fetched once per call. When ``stop`` is
    set, the current result page (with its detail pages) is finished and the
    crawl returns; a :class:`Blocked` page ends the crawl at once. ``urls``
    sources fetch their URLs as detail pages, in pages of 20. ``browser`` is
    needed for ``render: browser`` profiles.
    """
    run = _Run(source, profile, fetcher, browser, stop)
    if source.kind in ("search", "shop"):
        # Both walk result pages: of each keyword's search, or of each shop's listings.
        searching = source.kind == "search"
        spec = profile.search if searching else profile.shop
        if spec is None:
            section = "search" if searching else "shop"
            offer = "searches" if searching else "lists shops"
            raise ConfigError(f"platform profile {profile.name}",
                              f"source {source.name!r} {offer}, but the profile has no "
                              f"{section} section", key=section)
        page_of = _search_page if searching else _shop_page
        for item in source.keywords if searching else source.shops:
            if run.done:
                return
            async for event in run.pages(spec, item, functools.partial(page_of, profile, item)):
                yield event
    elif source.kind == "urls":
        urls = run.fresh(source.urls)
        for start in range(0, len(urls), URL_BATCH):
            if run.done:
                return
            async for event in run.listings_of("", start // URL_BATCH + 1,
                                               urls[start:start + URL_BATCH]):
                yield event
    else:
        raise ConfigError(f"source {source.name}",
                          f"source kind {source.kind!r} is not supported by the crawler",
                          key="kind")
