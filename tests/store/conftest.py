"""Store fixtures: a migrated database on both backends, a Store with a steppable clock,
and builders for crawled listings and findings (no crawler or detector needed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from jingwang.config import SourceConfig
from jingwang.records import Capture, CrawledListing, Finding, Listing, Seller
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.service import Store

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CHANNELS = ("log", "webhook")


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


PHRASES = {"当天出证": ("same_day_certificate", "fake_certificate", "high"),
           "包过": ("guaranteed_pass", "false_advertising", "medium")}


def detect(listing: Listing) -> list[Finding]:
    """A tiny stand-in detector: exact phrases with their spans in the original text."""
    found = []
    for field_name, text in listing.fields():
        for phrase, (rule, category, severity) in PHRASES.items():
            start = text.find(phrase)
            if start >= 0:
                found.append(Finding(rule=rule, category=category, field=field_name,
                                     start=start, end=start + len(phrase), text=phrase,
                                     severity=severity, legal_basis=("认证认可条例 第七十条",),
                                     evasions=("separator",) if "\u200b" in text else (),
                                     lexicon_version="test-1"))
    return found


class CountingDetect:
    """``detect`` that remembers how often it ran."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, listing: Listing) -> Sequence[Finding]:
        self.calls += 1
        return detect(listing)


def crawled(listing_id: str = "1001", *, title: str = "ISO9001认证 当天出证",
            description: str = "全国可办", shop_id: str | None = "shop-7",
            shop_name: str = "某某认证咨询", credit_code: str | None = "91340100MA2TXXXX0X",
            fetched_at: datetime = T0, screenshot: bytes | None = None,
            platform: str = "sandbox") -> CrawledListing:
    url = f"http://127.0.0.1:8765/item/{listing_id}"
    listing = Listing(platform=platform, listing_id=listing_id, title=title,
                      description=description, price="199.00", url=url,
                      seller=Seller(name=shop_name, credit_code=credit_code, shop_id=shop_id,
                                    shop_url=f"http://127.0.0.1:8765/shop/{shop_id}"),
                      images=("http://127.0.0.1:8765/img/1.png",), image_texts=("",))
    body = f"<html><body><h1>{title}</h1><p>{description}</p></body></html>".encode()
    capture = Capture(url=url, final_url=url + "?r=1", status=200, fetched_at=fetched_at,
                      headers={"Content-Type": "text/html; charset=utf-8"}, body=body,
                      tool="jingwang-test/1", screenshot=screenshot)
    return CrawledListing(listing=listing, capture=capture, source="sandbox-test")


def edited(item: CrawledListing, **changes: Any) -> CrawledListing:
    """The same listing with changed text fields, captured a minute later."""
    capture = replace(item.capture, fetched_at=item.capture.fetched_at + timedelta(minutes=1))
    return replace(item, listing=replace(item.listing, **changes), capture=capture)


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def evidence_root(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


@pytest.fixture
def store(engine: Engine, evidence_root: Path, clock: Clock) -> Store:
    return Store(engine, EvidenceStore(evidence_root), clock=clock)


@pytest.fixture
def run_id(store: Store) -> int:
    store.sync_source(SourceConfig(name="sandbox-test", platform="sandbox",
                                   keywords=["认证"]))
    return store.start_run("sandbox-test")
