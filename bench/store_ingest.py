"""Store ingest speed: listings per second into SQLite and PostgreSQL through ``Store.ingest``.

Run: ``python3 -m uv run --frozen python bench/store_ingest.py [--listings 3000]``; the
PostgreSQL server comes from ``JINGWANG_BENCH_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), on which it creates and
drops a database of its own.

Each listing is ingested the way a crawl does it: one transaction that upserts the
seller, inserts the listing, its version and its HTML evidence (file and row), and
for the tenth of listings that have a finding, the finding and the seller's lead
with its outbox row. Three passes per backend: ``new`` (every listing is new),
``unchanged`` (the same listings again: only ``last_seen_at`` moves, as on every
later crawl of an unchanged listing) and ``changed`` (every listing's content edited:
a new version each). Detection is a fixed stub here (bench/detect.py times the
detectors), so this measures the store alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jingwang.config import SourceConfig  # noqa: E402
from jingwang.records import Capture, CrawledListing, Finding, Listing, Seller  # noqa: E402
from store.db import make_engine, upgrade  # noqa: E402
from store.evidence import EvidenceStore  # noqa: E402
from store.service import Store  # noqa: E402

SERVER = os.environ.get("JINGWANG_BENCH_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHOPS = 200


def item(n: int, edit: int) -> CrawledListing:
    shop = n % SHOPS
    title = f"商品 {n} 质量检测报告 {'当天出证' if n % 10 == 0 else '正规检测'} v{edit}"
    listing = Listing(
        platform="bench", listing_id=f"item-{n}", title=title,
        description="检测认证服务，资料齐全。" * 8, price="199.00",
        url=f"https://bench.invalid/item/{n}",
        seller=Seller(name=f"店铺{shop}", shop_id=f"shop-{shop}",
                      shop_url=f"https://bench.invalid/shop/{shop}"))
    body = (f"<html><body><h1>{title}</h1><div>{listing.description}</div>"
            f"</body></html>").encode()
    capture = Capture(url=listing.url or "", final_url=listing.url or "", status=200,
                      fetched_at=datetime.now(UTC), headers={"content-type": "text/html"},
                      body=body, tool="bench")
    return CrawledListing(listing=listing, capture=capture, source="bench")


def detect(listing: Listing) -> Sequence[Finding]:
    at = listing.title.find("当天出证")
    if at < 0:
        return []
    return [Finding(rule="bench.same_day", category="fake_certificate", field="title",
                    start=at, end=at + 4, text="当天出证", severity="high")]


def run_pass(store: Store, run_id: int, n: int, edit: int) -> float:
    items = [item(i, edit) for i in range(n)]
    started = time.perf_counter()
    for one in items:
        store.ingest(run_id, one, detect, channels=["log"])
    return n / (time.perf_counter() - started)


def bench(label: str, url: str, evidence: Path, n: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    store = Store(engine, EvidenceStore(evidence))
    store.sync_source(SourceConfig(name="bench", platform="bench"))
    run_id = store.start_run("bench")
    passes: list[tuple[str, Callable[[], float]]] = [
        ("new", lambda: run_pass(store, run_id, n, 0)),
        ("unchanged", lambda: run_pass(store, run_id, n, 0)),
        ("changed", lambda: run_pass(store, run_id, n, 1)),
    ]
    for name, run in passes:
        print(f"{label:10s} {name:9s} {run():7.0f} listings/s", flush=True)
    counts = store.counts()
    print(f"{label:10s} stored: {counts['listings']} listings, {counts['versions']} versions, "
          f"{counts['findings']} findings, {counts['leads']} leads", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp) / "evidence-sqlite",
              args.listings)
        server = make_url(SERVER)
        name = f"jw_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'create database "{name}"'))
        try:
            bench("postgresql", server.set(database=name).render_as_string(
                hide_password=False), Path(tmp) / "evidence-pg", args.listings)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'drop database if exists "{name}"'))
            admin.dispose()


if __name__ == "__main__":
    main()
