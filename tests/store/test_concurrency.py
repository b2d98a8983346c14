"""Two workers ingesting at once never duplicate a listing, a version or a lead.

On PostgreSQL the race is forced: a hook holds each worker just before its INSERT
until both have got there, so both saw "no row yet" and one must lose the unique
constraint and retry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from jingwang.config import SourceConfig
from jingwang.records import CrawledListing
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.service import IngestResult, Store
from tests.store.conftest import CHANNELS, crawled, detect


def _race(store: Store, run_id: int, items: list[CrawledListing]) -> list[IngestResult]:
    start = threading.Barrier(len(items))

    def work(item: CrawledListing) -> IngestResult:
        start.wait(timeout=30)
        return store.ingest(run_id, item, detect, channels=CHANNELS)

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(work, items))


def _hold_inserts(engine: Engine, table: str, parties: int) -> Callable[[], int]:
    """Make the first ``parties`` INSERTs into ``table`` wait for each other."""
    barrier = threading.Barrier(parties)
    seen = {"n": 0}
    lock = threading.Lock()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(f"INSERT INTO {table} "):
            return
        with lock:
            seen["n"] += 1
            mine = seen["n"]
        if mine <= parties:
            barrier.wait(timeout=30)

    event.listen(engine, "before_cursor_execute", before)
    return lambda: seen["n"]


@pytest.fixture
def pg_store(pg_database_url: str, tmp_path: Path) -> Any:
    upgrade(pg_database_url)
    engine = make_engine(pg_database_url)
    store = Store(engine, EvidenceStore(tmp_path / "evidence"))
    store.sync_source(SourceConfig(name="s", platform="sandbox"))
    yield store, store.start_run("s")
    engine.dispose()


def test_threads_ingesting_same_listing_make_one_row(store: Store, run_id: int) -> None:
    results = _race(store, run_id, [crawled("1001") for _ in range(4)])
    assert len({r.listing_id for r in results}) == 1
    assert sum(r.new_listing for r in results) == 1
    assert sum(r.changed for r in results) == 1
    assert sum(r.lead_created for r in results) == 1
    counts = store.counts()
    assert (counts["listings"], counts["versions"], counts["sellers"], counts["leads"]) == (
        1, 1, 1, 1)
    assert counts["outbox_pending"] == len(CHANNELS)


@pytest.mark.postgres
def test_forced_race_on_listing_insert(pg_store: tuple[Store, int]) -> None:
    store, run_id = pg_store
    store.ingest(run_id, crawled("seed"), detect, channels=CHANNELS)  # seller and lead exist
    inserts = _hold_inserts(store.engine, "listing", 2)
    results = _race(store, run_id, [crawled("1001"), crawled("1001")])
    assert inserts() == 2  # both workers really tried to insert the listing
    assert len({r.listing_id for r in results}) == 1
    assert sorted(r.changed for r in results) == [False, True]
    counts = store.counts()
    assert (counts["listings"], counts["versions"], counts["leads"]) == (2, 2, 1)


@pytest.mark.postgres
def test_forced_race_on_lead_creation(pg_store: tuple[Store, int]) -> None:
    store, run_id = pg_store
    # The seller exists but has no lead yet (its first listing was clean).
    store.ingest(run_id, crawled("clean", title="ISO9001认证咨询"), detect, channels=CHANNELS)
    inserts = _hold_inserts(store.engine, "lead", 2)
    results = _race(store, run_id, [crawled("1001"), crawled("1002")])
    assert inserts() == 2
    assert all(r.changed and r.new_listing for r in results)
    assert len({r.lead_id for r in results}) == 1
    assert sorted(r.lead_created for r in results) == [False, True]
    counts = store.counts()
    assert (counts["listings"], counts["leads"]) == (3, 1)
    assert counts["outbox_pending"] == len(CHANNELS)
    lead = store.lead(results[0].lead_id or 0)
    assert lead is not None
    assert sorted(v.listing_id for v in lead.listings) == ["1001", "1002"]
