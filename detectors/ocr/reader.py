"""Fill ``Listing.image_texts``: download each image, check it, and read it once per SHA-256.

The order of work for one image: fetch it through the crawler's fetcher (its
SSRF policy, caps and politeness apply), sniff the type and size, hash the
bytes, look the hash up in the cache, and only then hand it to the OCR pool.
An unchanged listing (same text, same image URLs, same stored content hash)
reuses the texts of its stored version without downloading anything.
Problems never stop a listing: a refused or failed image gets an empty text
and an :class:`ImageText` that says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import urljoin

from detectors.ocr.cache import CachedText, OcrCache
from detectors.ocr.images import ImageLimits, ImageRefused, sniff
from detectors.ocr.pool import JobResult, OcrFailed, OcrPool
from jingwang.records import Capture, CrawledListing, Listing

log = logging.getLogger("jingwang.ocr")

READ, CACHED, REUSED, REFUSED, FAILED, SKIPPED = (
    "read", "cached", "reused", "refused", "failed", "skipped")
_HASH_IN_THREAD = 512 * 1024  # hash bigger images off the event loop

E = TypeVar("E")


class ImageFetcher(Protocol):
    """What the reader needs of :class:`crawler.fetch_http.HttpFetcher`."""

    async def fetch(self, url: str, *, asset: bool = False) -> Capture: ...


@dataclass(frozen=True, slots=True)
class Previous:
    """The stored current version of a listing: its content hash, images and their texts."""

    content_hash: str
    images: tuple[str, ...]
    image_texts: tuple[str, ...]


# (content hash, images, image texts) of the listing's stored current version, or None;
# a plain tuple so the store needs nothing from this package.
PreviousLookup = Callable[[Listing], tuple[str, tuple[str, ...], tuple[str, ...]] | None]


@dataclass(frozen=True, slots=True)
class ImageText:
    """What became of one image of a listing."""

    index: int
    url: str
    status: str  # read | cached | reused | refused | failed | skipped
    text: str = ""
    sha256: str | None = None
    reason: str | None = None  # a code, e.g. "decompression_bomb", "fetch_timeout"
    message: str = ""  # zh-CN, for operators
    seconds: float = 0.0  # OCR time in the worker (0 unless read now)

    @property
    def problem(self) -> bool:
        return self.status in (REFUSED, FAILED)

    def describe(self) -> str:
        """One line for the crawl-run record."""
        return f"图片{self.index + 1}未识别（{self.reason}）：{self.message}"


@dataclass(frozen=True, slots=True)
class ListingImages:
    """A listing with ``image_texts`` filled, and the fate of each image."""

    listing: Listing
    images: tuple[ImageText, ...]


class ImageReader:
    """Reads listing images with an :class:`OcrPool` and an :class:`OcrCache`."""

    def __init__(self, pool: OcrPool, cache: OcrCache | None, *,
                 limits: ImageLimits | None = None, max_images: int = 10,
                 previous: PreviousLookup | None = None, lookahead: int = 32) -> None:
        self.pool = pool
        self.cache = cache
        self.limits = limits or pool.limits
        self.max_images = max_images
        self.previous = previous
        self.lookahead = lookahead
        self._inflight: dict[str, asyncio.Future[CachedText]] = {}

    def close(self) -> None:
        self.pool.close()

    # -- one image ------------------------------------------------------------------

    async def read_bytes(self, data: bytes, *, index: int = 0, url: str = "") -> ImageText:
        """Check and read ``data``; the cache answers for bytes read before."""
        try:
            sniff(data, self.limits)
        except ImageRefused as exc:
            return ImageText(index, url, REFUSED, reason=exc.reason, message=exc.message)
        sha256 = (await asyncio.to_thread(_sha256, data) if len(data) > _HASH_IN_THREAD
                  else _sha256(data))
        cached = await self._cached(sha256)
        status = CACHED
        if cached is None:
            try:
                cached, fresh = await self._read_once(sha256, data)
            except OcrFailed as exc:
                return ImageText(index, url, FAILED, sha256=sha256, reason=exc.reason,
                                 message=exc.message)
            status = READ if fresh else CACHED
        if cached.text is None:
            return ImageText(index, url, REFUSED, sha256=sha256, reason=cached.reason,
                             message=cached.message)
        return ImageText(index, url, status, cached.text, sha256,
                         seconds=cached.seconds if status == READ else 0.0)

    async def _cached(self, sha256: str) -> CachedText | None:
        if self.cache is None:
            return None
        return await asyncio.to_thread(self.cache.get, sha256)

    async def _read_once(self, sha256: str, data: bytes) -> tuple[CachedText, bool]:
        """OCR the bytes, or wait for the same bytes already being read; True if read here."""
        running = self._inflight.get(sha256)
        if running is not None:
            return await asyncio.shield(running), False
        future: asyncio.Future[CachedText] = asyncio.get_running_loop().create_future()
        self._inflight[sha256] = future
        try:
            result = await self.pool.read(data)
            entry = _entry(sha256, len(data), result)
            if self.cache is not None:
                await asyncio.to_thread(self.cache.put, entry)
            future.set_result(entry)
            return entry, True
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else must
            raise
        finally:
            del self._inflight[sha256]

    async def read_url(self, url: str, fetcher: ImageFetcher, *, index: int = 0) -> ImageText:
        """Download ``url`` as a page asset, then :meth:`read_bytes`."""
        try:
            capture = await fetcher.fetch(url, asset=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # FetchError and whatever a fetcher raises
            kind = getattr(exc, "kind", type(exc).__name__)
            message = getattr(exc, "message", str(exc))
            return ImageText(index, url, FAILED, reason=f"fetch_{kind}",
                             message=f"图片下载失败：{message}")
        if capture.status != 200:
            return ImageText(index, url, FAILED, reason="http_status",
                             message=f"图片下载失败：HTTP {capture.status}")
        return await self.read_bytes(capture.body, index=index, url=url)

    # -- one listing ----------------------------------------------------------------

    async def read_listing(self, listing: Listing, fetcher: ImageFetcher, *,
                           base_url: str | None = None) -> ListingImages:
        """The listing with ``image_texts`` index-aligned with ``images``."""
        if not listing.images:
            return ListingImages(listing, ())
        found = (await asyncio.to_thread(self.previous, listing)
                 if self.previous is not None else None)
        previous = Previous(*found) if found is not None else None
        same_images = previous is not None and previous.images == listing.images \
            and len(previous.image_texts) == len(listing.images)
        if previous is not None and same_images:
            unchanged = dataclasses.replace(listing, image_texts=previous.image_texts)
            if unchanged.content_hash() == previous.content_hash:
                return ListingImages(unchanged, tuple(
                    ImageText(i, url, REUSED, text)
                    for i, (url, text) in enumerate(zip(listing.images,
                                                        previous.image_texts, strict=True))))
        base = base_url or listing.url or ""
        jobs = [self.read_url(urljoin(base, url), fetcher, index=i)
                for i, url in enumerate(listing.images[:self.max_images])]
        results = list(await asyncio.gather(*jobs))
        results += [ImageText(i, url, SKIPPED, reason="too_many_images",
                              message=f"每个商品最多识别 {self.max_images} 张图片")
                    for i, url in enumerate(listing.images) if i >= self.max_images]
        texts: list[str] = []
        for result in results:
            text = result.text
            # A download that failed this time keeps the text the same URL gave before.
            if result.status == FAILED and previous is not None and same_images:
                text = previous.image_texts[result.index]
            texts.append(text)
        return ListingImages(dataclasses.replace(listing, image_texts=tuple(texts)),
                             tuple(results))

    async def _read_item(self, item: CrawledListing, fetcher: ImageFetcher) -> ListingImages:
        try:
            return await self.read_listing(item.listing, fetcher,
                                           base_url=item.listing.url or item.capture.final_url)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not lose the listing
            log.exception("reading the images of %s failed", item.listing.listing_id)
            return ListingImages(item.listing, ())

    # -- a crawl --------------------------------------------------------------------

    async def stream(self, events: AsyncGenerator[E, None], fetcher: ImageFetcher, *,
                     on_image: Callable[[ImageText], Awaitable[None]] | None = None,
                     ) -> AsyncGenerator[E | CrawledListing, None]:
        """``events`` in the same order, each crawled listing with its image texts.

        Images of up to ``lookahead`` listings are read while earlier ones are
        still being handled, so the crawl runs ahead of OCR instead of waiting
        for it. ``on_image`` hears about every image (e.g. to record refusals).
        """
        self.pool.warm()
        queue: asyncio.Queue[tuple[E, asyncio.Task[ListingImages] | None] | _End] = \
            asyncio.Queue(maxsize=self.lookahead)

        async def produce() -> None:
            try:
                async with contextlib.aclosing(events):
                    async for event in events:
                        task = None
                        if isinstance(event, CrawledListing) and event.listing.images:
                            task = asyncio.create_task(self._read_item(event, fetcher))
                        await queue.put((event, task))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the crawl's failure, raised after what it queued
                await queue.put(_End(exc))
            else:
                await queue.put(_End(None))

        producer = asyncio.create_task(produce())
        try:
            while not isinstance(item := await queue.get(), _End):
                event, task = item
                if task is None:
                    yield event
                    continue
                read = await task
                if on_image is not None:
                    for image in read.images:
                        await on_image(image)
                assert isinstance(event, CrawledListing)
                yield dataclasses.replace(event, listing=read.listing)
            if item.error is not None:
                raise item.error
        finally:
            producer.cancel()
            pending: list[asyncio.Future[object]] = [producer]  # type: ignore[list-item]
            while not queue.empty():
                left = queue.get_nowait()
                if not isinstance(left, _End) and left[1] is not None:
                    left[1].cancel()
                    pending.append(left[1])  # type: ignore[arg-type]
            await asyncio.gather(*pending, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class _End:
    """The crawl is over; ``error`` is how it failed, if it did."""

    error: Exception | None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry(sha256: str, size: int, result: JobResult) -> CachedText:
    return CachedText(sha256=sha256, text=result.text, reason=result.reason,
                      message=result.message, width=result.width, height=result.height,
                      size=size, seconds=round(result.seconds, 4))
