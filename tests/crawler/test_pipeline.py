"""Crawl → detect → store against the hostile sandbox, into a real SQLite database.

Incremental re-crawls, removed listings, blocked sources (back-off and an operator
notice), and the evidence files with their hashes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.fetch_http import FetchOptions, HttpFetcher
from crawler.profiles import Profile, load_profiles
from detectors.suite import DetectorSuite
from jingwang.commands.evidence import verify_evidence
from jingwang.config import SourceConfig
from jingwang.pipeline import Pipeline, RunSummary
from jingwang.records import Finding, Listing
from sandbox.data import generate
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.models import CrawlFailure, CrawlRun, Evidence, Outbox
from store.models import Listing as ListingRow
from store.service import Store
from tests.conftest import ROOT, SANDBOX_SEED
from tests.crawler.conftest import PLATFORMS, Hostile

FAST = FetchOptions(attempts=2, backoff=0.01, backoff_max=0.05)
TRUTH = generate(SANDBOX_SEED).truth()
FLAGGED = sorted(i for i, t in TRUTH.items() if t["categories"] and not t["evasions"])[:3]
CLEAN = sorted(i for i, t in TRUTH.items() if not t["categories"])[:3]


class CountingSuite(DetectorSuite):
    """The real detectors, counting the listings they are asked about."""

    calls: list[str]

    def detect(self, listing: Listing) -> list[Finding]:
        self.calls.append(listing.listing_id)
        return super().detect(listing)


@dataclass
class World:
    store: Store
    suite: CountingSuite
    pipeline: Pipeline
    hostile: Hostile
    evidence_dir: Path

    def run(self, source: SourceConfig, **kw: object) -> RunSummary:
        return asyncio.run(self.pipeline.run_source(source, **kw))  # type: ignore[arg-type]

    def urls(self, ids: list[str], name: str = "watch") -> SourceConfig:
        return SourceConfig(name=name, platform="sandbox", kind="urls",
                            urls=[f"{self.hostile.url}/item/{i}" for i in ids])

    def session(self) -> Session:
        return Session(self.store.engine)


@pytest.fixture(scope="module")
def _suite() -> CountingSuite:
    suite = CountingSuite.from_paths(lexicon_dir=ROOT / "keywords")
    suite.calls = []
    return suite


@pytest.fixture
def world(hostile: Hostile, tmp_path: Path, _suite: CountingSuite) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'jw.db'}"
    upgrade(url)
    evidence_dir = tmp_path / "evidence"
    store = Store(make_engine(url), EvidenceStore(evidence_dir))
    suite = _suite
    suite.calls.clear()
    profiles: dict[str, Profile] = load_profiles(PLATFORMS)
    pipeline = Pipeline(store=store, suite=suite, profiles=profiles, channels=["log"],
                        base_urls={"sandbox": hostile.url, "sandbox-spa": hostile.url},
                        fetcher_factory=lambda p: HttpFetcher(p, options=FAST))
    yield World(store, suite, pipeline, hostile, evidence_dir)
    store.engine.dispose()


def test_unchanged_listings_are_not_detected_again_changed_ones_are(world: World) -> None:
    source = world.urls(FLAGGED + CLEAN)
    first = world.run(source)
    assert (first.status, first.listings, first.new_versions) == ("ok", 6, 6)
    assert sorted(world.suite.calls) == sorted(FLAGGED + CLEAN)
    assert first.flagged == set(FLAGGED)

    world.suite.calls.clear()
    again = world.run(source)
    assert (again.listings, again.new_versions, again.findings) == (6, 0, 0)
    assert world.suite.calls == []  # same content hash: not detected again

    world.hostile.faults.edits = {CLEAN[0]: "ISO9001认证 当天出证 包过"}
    edited = world.run(source)
    assert (edited.listings, edited.new_versions) == (6, 1)
    assert world.suite.calls == [CLEAN[0]]
    assert edited.findings > 0 and edited.flagged == {CLEAN[0]}
    counts = world.store.counts()
    assert (counts["listings"], counts["versions"]) == (6, 7)


def test_a_listing_that_is_gone_gets_removed_at(world: World) -> None:
    source = world.urls(FLAGGED)
    world.run(source)
    world.hostile.faults.removed = [FLAGGED[1]]
    summary = world.run(source)
    assert (summary.removed, summary.listings) == (1, 2)
    with world.session() as session:
        removed = {row.platform_listing_id: row.removed_at
                   for row in session.scalars(select(ListingRow))}
    assert removed[FLAGGED[1]] is not None and removed[FLAGGED[1]].tzinfo is not None
    assert removed[FLAGGED[0]] is None and removed[FLAGGED[2]] is None


def test_a_blocked_page_is_never_a_removal_and_the_source_backs_off(world: World) -> None:
    source = world.urls(FLAGGED)
    world.run(source)
    world.hostile.faults.removed = [FLAGGED[0]]
    world.hostile.faults.challenge = "slider"
    blocked = world.run(source)
    assert blocked.status == "partial" and blocked.blocked >= 1 and blocked.removed == 0
    assert blocked.error is not None and "拦截" in blocked.error
    assert blocked.resume_at is not None
    with world.session() as session:
        assert all(row.removed_at is None for row in session.scalars(select(ListingRow)))
        failures = session.scalars(select(CrawlFailure)).all()
        assert {f.kind.value for f in failures} == {"blocked"}
        notices = session.scalars(select(Outbox).where(Outbox.lead_id.is_(None))).all()
    assert [n.payload["event"] for n in notices] == ["source_blocked"]
    assert notices[0].payload["source"] == "watch" and notices[0].channel == "log"

    # The next run rests: nothing is fetched and no run is recorded.
    world.hostile.faults.challenge = None
    world.hostile.log.clear()
    runs_before = world.store.counts()["runs"]
    skipped = world.run(source)
    assert skipped.status == "skipped" and skipped.resume_at == blocked.resume_at
    assert world.hostile.hits("/") == 0 and world.store.counts()["runs"] == runs_before

    forced = world.run(source, force=True)
    assert forced.status == "ok" and forced.removed == 1  # FLAGGED[0] is really gone
    assert world.store.block_streak("watch") == (0, None)  # an unblocked run ends the streak


def test_fetch_failures_are_recorded_with_their_kind(world: World) -> None:
    world.hostile.faults.fail_first = 10
    summary = world.run(world.urls(FLAGGED[:1]))
    assert summary.status == "partial" and summary.errors == 1
    with world.session() as session:
        failure = session.scalars(select(CrawlFailure)).one()
        run = session.scalars(select(CrawlRun)).one()
    assert failure.kind.value == "fetch" and failure.problem == "status: HTTP 503"
    assert run.stats["errors"] == 1 and run.status.value == "partial"


@pytest.mark.browser
def test_flagged_versions_get_html_screenshot_and_capture_records(world: World) -> None:
    world.pipeline.screenshots = True
    summary = world.run(world.urls(FLAGGED + CLEAN[:1]))
    assert summary.screenshots == len(FLAGGED) and summary.screenshot_errors == 0
    with world.session() as session:
        rows = session.scalars(select(Evidence)).all()
    kinds: dict[int, list[str]] = {}
    for row in rows:
        kinds.setdefault(row.version_id, []).append(row.kind.value)
        data = (world.evidence_dir / row.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.size
    shots = [row for row in rows if row.kind.value == "screenshot"]
    assert len(shots) == len(FLAGGED)
    assert all((world.evidence_dir / r.path).read_bytes().startswith(b"\x89PNG") for r in shots)
    assert all(r.tool.startswith("jingwang/") and " playwright/" in r.tool for r in shots)
    # Flagged versions: HTML, screenshot and two capture records; the clean listing, never
    # flagged: no evidence files at all.
    assert sorted(map(sorted, kinds.values())) == (
        [["capture_record", "capture_record", "html", "screenshot"]] * len(FLAGGED))
    # Images are fetched for the screenshot only (the crawl itself never asks for them).
    assert world.hostile.hits("/img/") > 0

    report = verify_evidence(world.store)
    assert report.problems == [] and report.checked == len(rows)
    changed, gone = (world.evidence_dir / shots[0].path), (world.evidence_dir / shots[1].path)
    os.chmod(changed, 0o644)
    changed.write_bytes(changed.read_bytes() + b"tampered")
    gone.unlink()
    problems = {p.evidence_id: p.problem for p in verify_evidence(world.store).problems}
    assert problems[shots[0].id].startswith("内容已改变")
    assert problems[shots[1].id] == "文件缺失"
    # The capture record that names the missing screenshot is reported too.
    assert any("screenshot_sha256" in text for text in problems.values())


@pytest.mark.browser
def test_the_single_page_app_is_crawled_in_the_browser(world: World) -> None:
    source = SourceConfig(name="spa", platform="sandbox-spa", keywords=["毛绒", "面膜"], pages=2)
    summary = world.run(source)
    assert summary.status == "ok", summary
    catalog = generate(SANDBOX_SEED)
    expected = {item.id for word in ("毛绒", "面膜") for item in catalog.search(word)}
    assert summary.listings == len(expected) and summary.pages == 2
    with world.session() as session:
        rows = session.scalars(select(ListingRow)).all()
    assert {row.platform_listing_id for row in rows} == expected
    assert {row.platform for row in rows} == {"sandbox-spa"}
    assert all(row.url and "/spa/item/" in row.url for row in rows)
    # The API was read directly; listing pages were rendered (their script and API calls
    # went through the crawler's own HTTP client); images were never fetched.
    assert world.hostile.hits("/api/search") == 2  # one page each: has_more was false
    assert world.hostile.hits("/api/item/") == len(expected)
    assert world.hostile.hits("/static/spa.js") >= 1
    assert world.hostile.hits("/img/") == 0


@pytest.mark.browser
def test_runs_share_one_chromium_inside_shared_browser(world: World) -> None:
    urls = [f"{world.hostile.url}/spa/item/{i}" for i in CLEAN[:2]]
    source = SourceConfig(name="spa-urls", platform="sandbox-spa", kind="urls", urls=urls)

    async def go() -> tuple[list[str], int, bool]:
        async with world.pipeline.shared_browser() as pool:
            first = await world.pipeline.run_source(source)
            browser = await pool.browser()
            second = await world.pipeline.run_source(source)
            same = browser is await pool.browser()
            return [first.status, second.status], pool.tabs_opened, same

    statuses, tabs, same = asyncio.run(go())
    assert statuses == ["ok", "ok"] and same
    assert tabs <= 2  # the second run reused the first run's tabs
    assert world.pipeline.browser is None  # the pool is gone with the block
