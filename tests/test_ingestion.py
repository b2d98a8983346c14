"""Detection and writes in the ingest process: same result as in a thread, errors that
say what failed, a dead process replaced, metrics counted in the crawling process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from jingwang.config import Settings, SourceConfig
from jingwang.daemon import Components, build
from jingwang.ingestion import IngestFailed, ProcessIngest
from jingwang.records import CrawledListing
from store.db import upgrade
from store.models import FindingRow, Lead, ListingVersion, Outbox
from store.models import Listing as ListingRow
from tests.support.aio import run as run_async
from tests.support.factories import crawled

ROOT = Path(__file__).resolve().parents[1]
SOURCE = SourceConfig(name="ingest", platform="sandbox", keywords=["检测报告", "3C"], pages=2)


def _components(tmp: Path, sandbox_url: str, *, process: bool) -> Components:
    url = f"sqlite:///{tmp / 'jw.db'}"
    upgrade(url)
    settings = Settings(database_url=url, evidence_dir=tmp / "evidence",
                        lexicon_dir=ROOT / "keywords", platforms_dir=ROOT / "config/platforms",
                        sources=[SOURCE])
    return build(settings, config_path=tmp / "jingwang.yaml",
                 base_urls={"sandbox": sandbox_url}, ingest_process=process)


def _stored(components: Components) -> dict[str, Any]:
    with components.store.engine.connect() as conn:
        def count(model: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(model)).scalar_one())

        return {
            "listings": count(ListingRow), "versions": count(ListingVersion),
            "findings": count(FindingRow), "leads": count(Lead), "outbox": count(Outbox),
            "categories": sorted(conn.execute(
                select(FindingRow.category, func.count()).group_by(FindingRow.category)).all()),
        }


@pytest.fixture
def process_components(tmp_path: Path, sandbox_url: str) -> Iterator[Components]:
    components = _components(tmp_path, sandbox_url, process=True)
    yield components
    components.pipeline.ingest.close()


def _findings_counted() -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "jingwang_findings":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total


def test_process_ingest_stores_what_the_thread_ingest_stores(
        tmp_path: Path, sandbox_url: str, process_components: Components) -> None:
    (tmp_path / "thread").mkdir()
    threaded = _components(tmp_path / "thread", sandbox_url, process=False)
    before = _findings_counted()
    in_process = run_async(process_components.pipeline.run_source(SOURCE))
    in_thread = run_async(threaded.pipeline.run_source(SOURCE))
    assert in_process.status == in_thread.status == "ok"
    assert in_process.listings == in_thread.listings > 0
    assert in_process.findings == in_thread.findings > 0
    assert in_process.leads_created == in_thread.leads_created > 0
    assert _stored(process_components) == _stored(threaded)
    # Metrics are counted in this process, from the results the ingest process returns
    # (the thread run counts as many again).
    assert _findings_counted() - before == in_process.findings + in_thread.findings
    # A second crawl of unchanged pages stores no new version.
    again = run_async(process_components.pipeline.run_source(SOURCE))
    assert again.listings == in_process.listings and again.new_versions == 0


def test_an_error_in_the_ingest_process_names_its_type(
        process_components: Components) -> None:
    ingest = process_components.pipeline.ingest
    process_components.store.sync_source(SOURCE)
    run_id = process_components.store.start_run(SOURCE.name)
    nameless = crawled(listing_id="", title="直出证书")
    with pytest.raises(IngestFailed, match="ValueError: a listing needs a platform"):
        run_async(ingest(run_id, [nameless]))
    # The process survives a failed batch.
    stored = run_async(ingest(run_id, [crawled(listing_id="ok-1", title="直出证书 当天出证")]))
    assert stored[0].changed and stored[0].findings > 0


def test_a_dead_ingest_process_is_replaced(process_components: Components) -> None:
    ingest = process_components.pipeline.ingest
    assert isinstance(ingest, ProcessIngest)
    process_components.store.sync_source(SOURCE)
    run_id = process_components.store.start_run(SOURCE.name)
    first: list[CrawledListing] = [crawled(listing_id="d-1", title="检测包过")]
    assert run_async(ingest(run_id, first))[0].changed
    pid = ingest.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(IngestFailed, match="died"):
        run_async(ingest(run_id, [crawled(listing_id="d-2", title="检测包过")]))
    # The next batch runs in a new process; nothing of the lost batch was stored.
    results = run_async(ingest(run_id, [crawled(listing_id="d-2", title="检测包过")]))
    assert results[0].new_listing
    assert ingest.pid() not in (None, pid)
