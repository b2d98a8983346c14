"""The reader: each image's bytes are read once (cache, and one OCR for concurrent reads),
images come through the crawler's fetcher and its address policy, and an unchanged listing
reuses its stored texts without a download."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncGenerator
from pathlib import Path

from PIL import Image, ImageDraw

from crawler.fetch_http import FetchOptions, HttpFetcher
from crawler.profiles import load_profiles
from detectors.ocr import ImageReader, OcrCache, OcrPool
from jingwang.records import Listing
from sandbox.certificates import font
from sandbox.data import Catalog
from tests.conftest import ROOT
from tests.support.aio import run

FAST = FetchOptions(attempts=1, timeout=5.0, deadline=10.0)


def text_png(text: str) -> bytes:
    image = Image.new("RGB", (520, 90), (255, 255, 255))
    ImageDraw.Draw(image).text((20, 25), text, font=font(32), fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_same_bytes_are_read_once(pool: OcrPool, tmp_path: Path) -> None:
    reader = ImageReader(pool, OcrCache(tmp_path, pool.key))
    data = text_png("证书编号：AB2301234")
    before = pool.ocr_runs

    async def twice() -> tuple[str, str, str, str]:
        first = await reader.read_bytes(data)
        second = await reader.read_bytes(data)
        return first.status, first.text, second.status, second.text

    first_status, first_text, second_status, second_text = run(twice())
    assert (first_status, second_status) == ("read", "cached")
    assert "AB2301234" in first_text and second_text == first_text
    assert pool.ocr_runs == before + 1  # the cache answered the second time

    # A new reader on the same folder (a restarted daemon) still finds it.
    again = ImageReader(pool, OcrCache(tmp_path, pool.key))
    assert run(again.read_bytes(data)).status == "cached"
    assert pool.ocr_runs == before + 1
    # Another engine key is another folder: nothing cached there.
    other = ImageReader(pool, OcrCache(tmp_path, pool.key + "-next"))
    assert run(other.read_bytes(data)).status == "read"
    assert pool.ocr_runs == before + 2


def test_concurrent_reads_of_the_same_bytes_share_one_ocr(pool: OcrPool,
                                                         tmp_path: Path) -> None:
    reader = ImageReader(pool, OcrCache(tmp_path, pool.key))
    data = text_png("检测结论：合格")
    before = pool.ocr_runs

    async def together() -> list[str]:
        results = await asyncio.gather(*(reader.read_bytes(data, index=i) for i in range(4)))
        return [r.text for r in results]

    texts = run(together())
    assert len(set(texts)) == 1 and "合格" in texts[0]
    assert pool.ocr_runs == before + 1


def _sandbox_fetcher(sandbox_url: str) -> HttpFetcher:
    profile = load_profiles(ROOT / "config/platforms")["sandbox"].with_base_url(sandbox_url)
    return HttpFetcher(profile, options=FAST)


def test_listing_images_are_fetched_and_index_aligned(pool: OcrPool, tmp_path: Path,
                                                      sandbox_url: str, catalog: Catalog) -> None:
    reader = ImageReader(pool, OcrCache(tmp_path, pool.key), max_images=3)
    photo, other = list(catalog.images)[:2]
    listing = Listing("sandbox", "x1", "测试", url=f"{sandbox_url}/item/x1", images=(
        f"/img/{photo}.png",  # a product photo: no text
        "/img/no-such-image.png",  # 404
        "/robots.txt",  # text, not an image
        f"/img/{other}.png"))  # past max_images

    async def read() -> tuple[Listing, list[tuple[str, str | None]]]:
        async with _sandbox_fetcher(sandbox_url) as fetcher:
            result = await reader.read_listing(listing, fetcher)
        return result.listing, [(i.status, i.reason) for i in result.images]

    read_listing, outcomes = run(read())
    assert outcomes == [("read", None), ("failed", "http_status"),
                        ("refused", "not_an_image"), ("skipped", "too_many_images")]
    assert len(read_listing.image_texts) == len(listing.images)
    assert read_listing.image_texts[1:] == ("", "", "")


def test_images_obey_the_fetchers_address_policy(pool: OcrPool, tmp_path: Path,
                                                 sandbox_url: str) -> None:
    """A seller's image URL pointing inside the network is never fetched."""
    reader = ImageReader(pool, OcrCache(tmp_path, pool.key))
    listing = Listing("p", "x2", "t", url="https://shop.example/item/1", images=(
        f"{sandbox_url}/img/any.png", "http://169.254.169.254/latest/meta-data"))

    async def read() -> list[tuple[str, str | None]]:
        async with HttpFetcher(None, options=FAST) as fetcher:  # a real platform's policy
            result = await reader.read_listing(listing, fetcher)
        return [(i.status, i.reason) for i in result.images]

    assert run(read()) == [("failed", "fetch_blocked"), ("failed", "fetch_blocked")]


def test_an_unchanged_listing_reuses_its_stored_texts_without_downloading(
        pool: OcrPool, tmp_path: Path) -> None:
    # Port 9 (discard) on loopback refuses connections: any download would fail.
    listing = Listing("sandbox", "x3", "电热水壶 附检测报告", url="http://127.0.0.1:9/item/x3",
                      images=("/img/a.png", "/img/b.png"))
    stored = dataclasses.replace(listing, image_texts=("", "报告编号：WT23010001"))
    lookups: list[str] = []

    def previous(item: Listing) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        lookups.append(item.listing_id)
        return stored.content_hash(), stored.images, stored.image_texts

    reader = ImageReader(pool, OcrCache(tmp_path, pool.key), previous=previous)

    async def read(item: Listing) -> tuple[Listing, list[str]]:
        async with HttpFetcher(None, options=dataclasses.replace(
                FAST, loopback_hosts=frozenset({"127.0.0.1"}))) as fetcher:
            result = await reader.read_listing(item, fetcher)
        return result.listing, [i.status for i in result.images]

    same, statuses = run(read(listing))
    assert statuses == ["reused", "reused"] and same.content_hash() == stored.content_hash()
    # The title changed: the images are fetched again; this download fails, so the
    # texts the same URLs gave before are kept rather than lost.
    edited, statuses = run(read(dataclasses.replace(listing, title="电热水壶 新款")))
    assert statuses == ["failed", "failed"]
    assert edited.image_texts == stored.image_texts
    assert lookups == ["x3", "x3"]


def test_a_stuck_read_times_out_is_not_cached_and_the_pool_recovers(tmp_path: Path) -> None:
    slow = OcrPool(workers=1, timeout=0.01)  # less than a worker needs to start
    reader = ImageReader(slow, OcrCache(tmp_path, slow.key))
    data = text_png("发证日期：2023年5月17日")
    try:
        first = run(reader.read_bytes(data))
        assert (first.status, first.reason) == ("failed", "ocr_timeout")
        assert list(tmp_path.rglob("*.json")) == []  # a failure is not an answer
        slow.timeout = 60.0
        second = run(reader.read_bytes(data))  # a fresh worker replaced the stuck one
        assert second.status == "read" and "2023" in second.text
    finally:
        slow.close()


def test_a_crawl_stream_keeps_its_order_and_its_failure(pool: OcrPool, tmp_path: Path) -> None:
    reader = ImageReader(pool, OcrCache(tmp_path, pool.key))

    async def crawl() -> AsyncGenerator[str, None]:
        yield "page 1"
        yield "page 2"
        raise ConnectionError("platform went away")

    async def consume() -> tuple[list[object], BaseException | None]:
        seen: list[object] = []
        async with HttpFetcher(None, options=FAST) as fetcher:
            try:
                async for event in reader.stream(crawl(), fetcher):
                    seen.append(event)
            except ConnectionError as exc:
                return seen, exc
        return seen, None

    seen, error = run(consume())
    assert seen == ["page 1", "page 2"]  # what was crawled comes out first
    assert isinstance(error, ConnectionError)
