"""Records for tests: captures, listings and findings built directly, no crawler needed."""

from __future__ import annotations

from datetime import UTC, datetime

from jingwang.config import SourceConfig
from jingwang.records import Capture, CrawledListing, Finding, Listing, Seller
from store.service import Store


def crawled(listing_id: str = "sb-1", *, title: str = "ISO9001认证 当天出证",
            description: str = "办理快", shop: str = "速办认证工作室",
            platform: str = "sandbox") -> CrawledListing:
    listing = Listing(platform=platform, listing_id=listing_id, title=title,
                      description=description, price="99.00",
                      url=f"http://127.0.0.1:8765/item/{listing_id}",
                      seller=Seller(name=shop, shop_id=f"shop-{shop}"))
    body = f"<html><body><h1>{title}</h1><div>{description}</div></body></html>".encode()
    capture = Capture(url=listing.url or "", final_url=listing.url or "", status=200,
                      fetched_at=datetime.now(UTC), headers={"content-type": "text/html"},
                      body=body, tool="tests")
    return CrawledListing(listing=listing, capture=capture, source="test")


def phrase_detector(phrase: str = "当天出证", category: str = "fake_certificate"):  # type: ignore[no-untyped-def]
    """A tiny real detector: flags every occurrence of ``phrase`` in the title."""

    def detect(listing: Listing) -> list[Finding]:
        start = listing.title.find(phrase)
        if start < 0:
            return []
        return [Finding(rule="test.phrase", category=category, field="title", start=start,
                        end=start + len(phrase), text=phrase, severity="high")]

    return detect


def new_run(store: Store, name: str = "test") -> int:
    """A crawl run of a freshly synced source, as the pipeline would start one."""
    store.sync_source(SourceConfig(name=name, platform="sandbox", keywords=["认证"]))
    return store.start_run(name)
