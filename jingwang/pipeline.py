"""One crawl run of one source: crawl → detect → store (→ outbox rows for alerts).

Besides the listings, a run takes a full-page screenshot of every newly
flagged listing version (when screenshots are on), marks removed listings,
and handles blocks: the blocked page is recorded, the run stops, an operator
notice is queued, and the source is skipped for a while that doubles with
every blocked run in a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from playwright.async_api import Error as PlaywrightError

from crawler.events import Blocked, CrawlEvent, FetchFailed, PageDone, ParseFailure, Removed
from crawler.fetch_browser import BrowserFetcher, BrowserPool, BrowserUnavailable
from crawler.fetch_http import FetchError, HttpFetcher
from crawler.profiles import InfiniteScroll, Profile
from crawler.run import URL_BATCH, crawl_source, source_profile
from detectors.ocr import ImageReader, ImageText
from detectors.suite import DetectorSuite
from jingwang.clock import utcnow
from jingwang.config import SourceConfig
from jingwang.ingestion import Ingest, ThreadIngest
from jingwang.records import CrawledListing
from store.service import Store

log = logging.getLogger("jingwang.pipeline")

MAX_BLOCK_BACKOFF = 24 * 3600.0
QUEUE_SIZE = 200  # crawled events waiting to be stored
INGEST_BATCH = 50  # listings stored in one transaction, at most (see _overlapped)
NOTICE_SOURCE_BLOCKED = "source_blocked"


def block_backoff(streak: int, interval: float) -> float:
    """Seconds a source rests after ``streak`` blocked runs in a row: its interval (at
    least 15 minutes), doubled for each further blocked run, at most a day."""
    if streak <= 0:
        return 0.0
    return min(MAX_BLOCK_BACKOFF, max(interval, 900.0) * 2.0 ** (streak - 1))


@dataclass
class RunSummary:
    """What one run did; stored on its crawl_run row and shown by ``jingwang crawl``."""

    source: str
    run_id: int = 0
    status: str = "running"  # ok | partial | failed | interrupted | skipped (backing off)
    planned_pages: int = 0  # upper bound of result pages, for a progress bar
    pages: int = 0
    listings: int = 0
    new_versions: int = 0
    findings: int = 0
    leads_created: int = 0
    errors: int = 0
    parse_failures: int = 0
    removed: int = 0
    blocked: int = 0
    screenshots: int = 0
    screenshot_errors: int = 0
    images_read: int = 0  # pictures OCR read in this run (cached and reused ones not counted)
    image_problems: int = 0  # pictures refused or not downloaded (recorded, never fatal)
    error: str | None = None
    resume_at: datetime | None = None  # a blocked or skipped source's next allowed run
    flagged: set[str] = field(default_factory=set)

    def stats(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items()
                if isinstance(v, int) and k not in ("run_id", "planned_pages")}


def planned_pages(source: SourceConfig) -> int:
    if source.kind == "search":
        return len(source.keywords) * source.pages
    if source.kind == "shop":
        return len(source.shops) * source.pages
    return math.ceil(len(source.urls) / URL_BATCH)



async def _overlapped(events: AsyncGenerator[CrawlEvent, None],
                      handle: Callable[[list[CrawlEvent]], Awaitable[None]]) -> None:
    """Handle events (store, detect, screenshot) while the crawl fetches the next pages.

    Storing is the slow part of a run; on its own task it overlaps the network waits.
    Events are handled in crawl order: listings that are waiting together go to
    ``handle`` as one group (stored in one transaction, up to ``INGEST_BATCH``), any
    other event alone. The queue is bounded so a slow store holds the crawl back.
    Whatever was crawled is stored, also when the crawl fails; a store failure ends the
    crawl and is raised.
    """
    queue: asyncio.Queue[CrawlEvent | None] = asyncio.Queue(maxsize=QUEUE_SIZE)

    async def consume() -> None:
        ahead: CrawlEvent | None = None
        while True:
            event = ahead if ahead is not None else await queue.get()
            ahead, last = None, event is None
            if event is None:
                return
            group = [event]
            while isinstance(event, CrawledListing) and len(group) < INGEST_BATCH \
                    and not queue.empty():
                following = queue.get_nowait()
                if isinstance(following, CrawledListing):
                    group.append(following)
                    continue
                ahead, last = following, following is None
                break
            await handle(group)
            if last:
                return

    consumer = asyncio.create_task(consume())
    try:
        async with contextlib.aclosing(events):
            async for event in events:
                put = asyncio.ensure_future(queue.put(event))
                await asyncio.wait({put, consumer}, return_when=asyncio.FIRST_COMPLETED)
                if not put.done():  # the consumer failed while the queue was full
                    put.cancel()
                if consumer.done():
                    break
    finally:
        if not consumer.done():
            try:
                queue.put_nowait(None)  # store what is queued, then stop
            except asyncio.QueueFull:
                await asyncio.wait({asyncio.ensure_future(queue.put(None)), consumer},
                                   return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(consumer, return_exceptions=True)
    consumer.result()  # a store failure is the run's failure


class Pipeline:
    """Runs sources; every stage is passed in so tests hand in real local ones.

    ``browser`` is a shared Chromium pool; without one, a run that needs a
    browser (a ``render: browser`` profile, or a screenshot) launches its own
    and closes it when the run ends. ``screenshots`` turns on full-page
    screenshots of newly flagged listing versions.
    """

    def __init__(self, *, store: Store, suite: DetectorSuite, profiles: Mapping[str, Profile],
                 channels: Sequence[str], base_urls: Mapping[str, str] | None = None,
                 fetcher_factory: Callable[[Profile], HttpFetcher] | None = None,
                 browser: BrowserPool | None = None, screenshots: bool = False,
                 images: ImageReader | None = None, ingest: Ingest | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.suite = suite
        self.profiles = profiles
        self.channels = list(channels)
        # Detection and writes of crawled listings: in a thread unless given (the
        # daemon hands in a ProcessIngest, see jingwang.ingestion).
        self.ingest: Ingest = ingest or ThreadIngest(store, suite, self.channels)
        self.base_urls = dict(base_urls or {})
        self.fetcher_factory = fetcher_factory or (lambda profile: HttpFetcher(profile))
        self.browser = browser
        self.screenshots = screenshots
        self.images = images  # reads listing pictures (OCR) before storing; None: off
        self.clock = clock

    def profile_for(self, source: SourceConfig) -> Profile:
        profile = self.profiles[source.platform]
        base = self.base_urls.get(source.platform)
        profile = profile.with_base_url(base) if base else profile
        return source_profile(profile, source)

    def _resume_at(self, source: SourceConfig) -> datetime | None:
        """When a source that was blocked may run again (None: it may run now)."""
        streak, last = self.store.block_streak(source.name)
        if not streak or last is None:
            return None
        resume = last + timedelta(seconds=block_backoff(streak, source.interval))
        return resume if resume > self.clock() else None

    @contextlib.asynccontextmanager
    async def shared_browser(self, *, size: int = 6) -> AsyncIterator[BrowserPool]:
        """One Chromium for every run inside the block — for the daemon, its whole life
        (launched on first use, closed when the block ends)."""
        pool = BrowserPool(size=size)
        previous, self.browser = self.browser, pool
        try:
            yield pool
        finally:
            self.browser = previous
            await pool.close()

    @contextlib.asynccontextmanager
    async def _browser_pool(self, profile: Profile) -> AsyncIterator[BrowserPool]:
        """The shared pool, or one for this run (launched only if used, closed after)."""
        if self.browser is not None:
            yield self.browser
            return
        scrolls = any(spec is not None and isinstance(spec.pagination, InfiniteScroll)
                      for spec in (profile.search, profile.shop))
        pool = BrowserPool(size=profile.rate.concurrency + int(scrolls))
        try:
            yield pool
        finally:
            await pool.close()

    async def run_source(self, source: SourceConfig, *, stop: asyncio.Event | None = None,
                         on_progress: Callable[[RunSummary], None] | None = None,
                         force: bool = False) -> RunSummary:
        """Crawl one source once. Failures are recorded on the run; this never raises.

        A source that was blocked rests (status ``skipped``, nothing recorded)
        until its back-off has passed, unless ``force``.
        """
        summary = RunSummary(source=source.name, planned_pages=planned_pages(source))
        await asyncio.to_thread(self.suite.reload_if_changed)
        await asyncio.to_thread(self.store.sync_source, source)
        if not force:
            resume = await asyncio.to_thread(self._resume_at, source)
            if resume is not None:
                summary.status, summary.resume_at = "skipped", resume
                summary.error = f"源被平台拦截，暂停抓取至 {resume.isoformat(timespec='seconds')}"
                log.warning("source %s: blocked earlier, resting until %s", source.name,
                            resume.isoformat())
                return summary
        summary.run_id = await asyncio.to_thread(self.store.start_run, source.name)
        blocked: list[Blocked] = []
        try:
            profile = self.profile_for(source)
            async with self.fetcher_factory(profile) as fetcher, \
                    self._browser_pool(profile) as pool:
                browser = BrowserFetcher(pool, fetcher, timeout=profile.browser.timeout,
                                         wait_timeout=profile.browser.wait_timeout)
                events = crawl_source(source, profile, fetcher, stop=stop,
                                      browser=browser if profile.render == "browser" else None)
                if self.images is not None:  # image texts are read ahead, in worker processes
                    events = self.images.stream(
                        events, fetcher, on_image=lambda image: self._image_read(summary, image))

                async def handle(group: list[CrawlEvent]) -> None:
                    listings = [e for e in group if isinstance(e, CrawledListing)]
                    if listings:
                        await self._store_listings(summary, listings, browser)
                    for event in group:
                        if not isinstance(event, CrawledListing):
                            await self._handle(summary, event, source)
                        if isinstance(event, Blocked):
                            blocked.append(event)
                    if on_progress:
                        on_progress(summary)

                await _overlapped(events, handle)
            stopped = stop is not None and stop.is_set()
            summary.status = "interrupted" if stopped else (
                "partial" if summary.errors or summary.parse_failures or summary.blocked
                else "ok")
        except Exception as exc:  # an unreachable or broken source never stops the daemon
            log.exception("source %s: run %d failed", source.name, summary.run_id)
            summary.status = "failed"
            summary.error = f"{type(exc).__name__}: {exc}"
        if blocked:
            summary.error = summary.error or f"被平台拦截：{blocked[0].reason}（{blocked[0].url}）"
        await asyncio.to_thread(self.store.finish_run, summary.run_id, status=summary.status,
                                stats=summary.stats(), error=summary.error)
        if blocked:
            await self._notify_blocked(summary, source, blocked[0])
        log.info("source %s: run %d %s: %s", source.name, summary.run_id, summary.status,
                 summary.stats(), extra={"crawl_run_id": summary.run_id})
        return summary

    async def _store_listings(self, summary: RunSummary, items: list[CrawledListing],
                              browser: BrowserFetcher) -> None:
        """Detect and store listings in one transaction, then screenshot the newly
        flagged versions."""
        results = await self.ingest(summary.run_id, items)
        for item, result in zip(items, results, strict=True):
            summary.listings += 1
            summary.new_versions += int(result.changed)
            summary.findings += result.findings
            summary.leads_created += int(result.lead_created)
            if result.findings:
                summary.flagged.add(item.listing.listing_id)
        if self.screenshots:
            for item, result in zip(items, results, strict=True):
                if result.changed and result.findings:
                    await self._screenshot(summary, item, result.version_id, browser)

    async def _handle(self, summary: RunSummary, event: object, source: SourceConfig) -> None:
        if isinstance(event, PageDone):
            summary.pages += 1
        elif isinstance(event, ParseFailure):
            summary.parse_failures += 1
            await asyncio.to_thread(self.store.record_failure, summary.run_id, url=event.url,
                                    kind="parse", problem=event.describe())
        elif isinstance(event, FetchFailed):
            summary.errors += 1
            await asyncio.to_thread(self.store.record_failure, summary.run_id, url=event.url,
                                    kind="fetch", problem=f"{event.kind}: {event.message}")
        elif isinstance(event, Blocked):
            summary.blocked += 1
            await asyncio.to_thread(self.store.record_failure, summary.run_id, url=event.url,
                                    kind="blocked", problem=event.reason)
        elif isinstance(event, Removed):
            summary.removed += 1
            await asyncio.to_thread(self.store.mark_removed, platform=source.platform,
                                    url=event.url, at=self.clock())

    async def _image_read(self, summary: RunSummary, image: ImageText) -> None:
        """Count a picture; one that was refused or not downloaded is recorded on the run."""
        summary.images_read += image.status == "read"
        if image.problem:
            summary.image_problems += 1
            await asyncio.to_thread(self.store.record_failure, summary.run_id, url=image.url,
                                    kind="fetch", problem=image.describe())

    async def _screenshot(self, summary: RunSummary, item: CrawledListing, version_id: int,
                          browser: BrowserFetcher) -> None:
        """Full-page screenshot of a newly flagged version; a failure never stops the run."""
        try:
            shot = await browser.screenshot(item.capture)
            await asyncio.to_thread(self.store.attach_screenshot, version_id, shot)
            summary.screenshots += 1
        except (BrowserUnavailable, FetchError, PlaywrightError) as exc:
            summary.screenshot_errors += 1
            log.warning("source %s: no screenshot of %s: %s", summary.source,
                        item.capture.url, exc)

    async def _notify_blocked(self, summary: RunSummary, source: SourceConfig,
                              blocked: Blocked) -> None:
        """Tell an operator: the platform blocked this source, which now backs off."""
        streak, last = await asyncio.to_thread(self.store.block_streak, source.name)
        resume = (last or self.clock()) + timedelta(
            seconds=block_backoff(max(1, streak), source.interval))
        summary.resume_at = resume
        title = f"抓取被拦截：{source.name}（{source.platform}）"
        body = (f"平台拦截了抓取源 {source.name}：{blocked.reason}\n页面：{blocked.url}\n"
                f"连续被拦截 {max(1, streak)} 次，暂停至 {resume.isoformat(timespec='seconds')}。"
                "请检查登录状态（cookie 文件）、代理或访问频率。")
        payload = {"event": NOTICE_SOURCE_BLOCKED, "title": title, "body": body,
                   "source": source.name, "platform": source.platform,
                   "run_id": summary.run_id, "url": blocked.url, "reason": blocked.reason,
                   "streak": max(1, streak), "resume_at": resume.isoformat()}
        log.warning("%s: %s (%s); resting until %s", title, blocked.reason, blocked.url,
                    resume.isoformat(), extra={"crawl_run_id": summary.run_id})
        await asyncio.to_thread(
            self.store.enqueue_notice, key=f"source:{source.name}:blocked:{summary.run_id}",
            payload=payload, channels=self.channels)
