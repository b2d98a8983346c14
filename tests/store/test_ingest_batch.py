"""Batch ingest (``Store.ingest_many``) and deferred evidence sync.

A batch must store exactly what the same items ingested one by one store, in one
transaction: all of it or none of it. Both backends run every test (``database_url``).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jingwang.config import SourceConfig
from jingwang.records import CrawledListing, Finding, Listing
from store import evidence as evidence_module
from store.db import make_engine, upgrade
from store.evidence import SYNCFS_FROM, EvidenceStore
from store.models import (
    Evidence,
    FindingRow,
    Lead,
    LeadListing,
    ListingVersion,
    Outbox,
    Seller,
)
from store.models import Listing as ListingRow
from store.models_alerts import LeadListingGroup, LeadProfile, LeadSeller
from store.service import IngestResult, Store
from tests.conftest import fresh_pg_database
from tests.store.conftest import CHANNELS, T0, Clock, CountingDetect, crawled, detect, edited

Detect = Callable[[Listing], Sequence[Finding]]
HOUR = timedelta(hours=1)


# -- a second, independent store on the same backend ----------------------------------


@contextmanager
def _twin_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'twin.db'}"
        return
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def twin(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Store]:
    """A second fresh store with the same clock and backend as ``store``: the batch goes
    into one, the same items one by one into the other, and the two are compared."""
    with _twin_url(database_url, tmp_path) as url:
        upgrade(url)
        engine: Engine = make_engine(url)
        try:
            yield Store(engine, EvidenceStore(tmp_path / "twin-evidence"), clock=clock)
        finally:
            engine.dispose()


def _start_run(store: Store) -> int:
    """The same run the ``run_id`` fixture starts (same source, so the same region)."""
    store.sync_source(SourceConfig(name="sandbox-test", platform="sandbox", keywords=["认证"]))
    return store.start_run("sandbox-test")


# -- the state of a store, by natural keys (ids may differ between two stores) --------


Key = tuple[str, str]


class Snapshot:
    """Every row ingest writes, keyed by platform, shop and listing ids instead of
    surrogate ids, so two stores that hold the same data compare equal."""

    def __init__(self, store: Store) -> None:
        with Session(store.engine) as session:
            self.sellers: dict[int, Key] = {
                row.id: (row.platform, row.shop_key) for row in session.scalars(select(Seller))}
            self.listings: dict[int, Key] = {
                row.id: (row.platform, row.platform_listing_id)
                for row in session.scalars(select(ListingRow))}
            versions = session.scalars(select(ListingVersion).order_by(ListingVersion.id)).all()
            ordinal: dict[int, int] = {}
            self.versions: dict[int, tuple[Key, int]] = {}
            for version in versions:
                n = ordinal[version.listing_id] = ordinal.get(version.listing_id, -1) + 1
                self.versions[version.id] = (self.listings[version.listing_id], n)
            self.leads: dict[int, Key] = {
                row.id: self.sellers[row.seller_id] for row in session.scalars(select(Lead))}
            self.state = self._state(session, versions)

    def _state(self, session: Session, versions: Sequence[ListingVersion]) -> dict[str, Any]:
        s, li, v, le = self.sellers, self.listings, self.versions, self.leads
        return {
            "sellers": sorted(
                (r.platform, r.shop_key, r.shop_id, r.name, r.credit_code, r.shop_url,
                 r.created_at, r.updated_at) for r in session.scalars(select(Seller))),
            "listings": sorted(
                (li[r.id], r.url, s[r.seller_id], r.content_hash,
                 v[r.current_version_id] if r.current_version_id else None,
                 r.first_seen_at, r.last_seen_at, r.removed_at)
                for r in session.scalars(select(ListingRow))),
            "versions": sorted(
                (v[r.id], r.content_hash, r.title, r.description, r.price, r.captured_at,
                 r.run_id) for r in versions),
            "evidence": sorted(
                (v[r.version_id], r.kind.value, r.sha256, r.size, r.content_type, r.path,
                 r.fetched_at) for r in session.scalars(select(Evidence))),
            "findings": sorted(
                (v[r.version_id], r.rule, r.category, r.field, r.start, r.end, r.text,
                 r.severity) for r in session.scalars(select(FindingRow))),
            "leads": sorted(
                (le[r.id], r.status.value, tuple(r.categories), r.score, r.new_at,
                 r.created_at, r.updated_at) for r in session.scalars(select(Lead))),
            "lead_listings": sorted(
                (le[r.lead_id], li[r.listing_id], r.added_at)
                for r in session.scalars(select(LeadListing))),
            "lead_sellers": sorted(
                (le[r.lead_id], s[r.seller_id], r.joined_by, r.similarity)
                for r in session.scalars(select(LeadSeller))),
            "groups": sorted(
                (le[r.lead_id], li[r.listing_id], li[r.representative_id], r.fingerprint,
                 r.similarity) for r in session.scalars(select(LeadListingGroup))),
            "profiles": sorted(
                (le[r.lead_id], r.severity, tuple(r.signals), tuple(r.rules),
                 tuple(r.platforms), r.region, r.listing_count, r.group_count,
                 tuple(sorted(r.score_detail.items(), key=lambda kv: kv[0])))
                for r in session.scalars(select(LeadProfile))),
            "outbox": sorted(self._outbox(r) for r in session.scalars(select(Outbox))),
        }

    def _outbox(self, row: Outbox) -> tuple[Any, ...]:
        assert row.lead_id is not None
        lead = self.leads[row.lead_id]
        # A batch announces a new lead after every listing of the batch is on it, so its
        # score and categories may be higher than a one-by-one ingest announced; the rest
        # of the payload is the same.
        payload = {k: v for k, v in row.payload.items()
                   if k not in ("lead_id", "score", "categories")}
        return (lead, row.channel, row.idempotency_key.replace(f":{row.lead_id}:", ":#:"),
                row.status.value, repr(sorted(payload.items())), row.created_at)

    def result(self, result: IngestResult) -> tuple[Any, ...]:
        """An ingest result by natural keys."""
        return (self.listings[result.listing_id], self.versions[result.version_id],
                result.changed, result.new_listing, result.findings,
                self.leads[result.lead_id] if result.lead_id is not None else None,
                result.lead_created, result.categories)


def assert_rows_name_existing_files(store: Store) -> None:
    """Every evidence row names a file that is there, with the bytes its hash says."""
    for row in store.evidence_files():
        data = (store.evidence_store.root / row.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256
        assert len(data) == row.size


# -- 1. a batch stores what one-by-one ingests store ----------------------------------


def _mixed_items() -> list[CrawledListing]:
    """New, repeated, edited, clean and cross-platform listings of a few sellers (the
    orders of repeats and edits within one batch have tests of their own below)."""
    return [
        crawled("1001", fetched_at=T0 + HOUR),
        crawled("1002", title="CE认证包过", fetched_at=T0 + HOUR),
        crawled("2001", title="ISO9001认证咨询 需现场审核", shop_id="shop-9",
                shop_name="另一家", credit_code=None, fetched_at=T0 + HOUR),
        crawled("0001", description="当天出证 认证包过",
                fetched_at=T0 + 2 * HOUR),  # stored before the batch, edited
        crawled("0002", title="3C认证 当天出证", description="加急包过",
                fetched_at=T0 + 2 * HOUR),  # stored before the batch, edited
        crawled("0001", description="当天出证 认证包过",
                fetched_at=T0 + 3 * HOUR),  # what the batch just stored: unchanged
        crawled("2002", title="体系认证 当天出证", shop_id="shop-9", shop_name="另一家",
                credit_code=None, fetched_at=T0 + 2 * HOUR),
        crawled("3001", title="FSC认证 当天出证", shop_id="shop-5", shop_name="快证通",
                credit_code=None, fetched_at=T0 + 2 * HOUR),  # a new lead with two listings
        crawled("3002", title="GMP认证 包过", shop_id="shop-5", shop_name="快证通",
                credit_code=None, fetched_at=T0 + 2 * HOUR),
        crawled("5001", title="CCC认证 包过", shop_id="m-1", shop_name="某某认证咨询",
                platform="othermall", fetched_at=T0 + 2 * HOUR),  # same seller elsewhere
        crawled("7001", title="普通商品", shop_id="shop-3", shop_name="杂货店",
                credit_code=None, fetched_at=T0 + 2 * HOUR),
    ]


def _stored_before() -> list[CrawledListing]:
    return [crawled("0001"), crawled("0002", title="3C认证咨询", description="正规办理")]


def test_batch_stores_what_one_by_one_ingests_store(store: Store, twin: Store,
                                                     run_id: int) -> None:
    twin_run = _start_run(twin)
    assert twin_run == run_id
    for item in _stored_before():
        store.ingest(run_id, item, detect, channels=CHANNELS)
        twin.ingest(twin_run, item, detect, channels=CHANNELS)

    items = _mixed_items()
    batch = store.ingest_many(run_id, items, detect, channels=CHANNELS)
    singles = [twin.ingest(twin_run, item, detect, channels=CHANNELS) for item in items]

    batched, single = Snapshot(store), Snapshot(twin)
    assert batched.state == single.state
    assert [batched.result(r) for r in batch] == [single.result(r) for r in singles]
    assert store.counts() == twin.counts()
    # The comparison is not vacuous: the batch made leads, findings and alerts.
    counts = store.counts()
    assert counts["listings"] == 10 and counts["versions"] == 12
    assert counts["leads"] == 3 and counts["outbox_pending"] == 3 * len(CHANNELS)
    assert len(batched.state["lead_sellers"]) == 1  # othermall joined by credit code
    assert_rows_name_existing_files(store)


def test_unchanged_item_reports_its_own_version_when_a_later_item_edits_the_listing(
        store: Store, run_id: int) -> None:
    item = crawled()
    stored = store.ingest(run_id, item, detect, channels=CHANNELS)
    seen_again = replace(item, capture=replace(item.capture, fetched_at=T0 + HOUR))
    then_edited = edited(seen_again, description="认证包过")
    unchanged, changed = store.ingest_many(run_id, [seen_again, then_edited], detect,
                                           channels=CHANNELS)
    assert not unchanged.changed and changed.changed
    assert changed.version_id != stored.version_id
    assert unchanged.version_id == stored.version_id  # as a single ingest reports it


def test_batch_lead_matches_one_by_one_when_a_listing_is_edited_within_the_batch(
        store: Store, twin: Store, run_id: int) -> None:
    """A near-duplicate of a listing is grouped with it against the text the listing had
    when the duplicate was filed, not a text a later item of the batch gave it."""
    twin_run = _start_run(twin)
    first = crawled("1001", title="ISO9001认证 当天出证 全国可办 三天拿证 正规机构",
                    description="资料齐全即可办理，专业团队一对一服务")
    near = crawled("1002", title="ISO9001认证 当天出证 全国可办 三天领证 正规机构",
                   description="资料齐全即可办理，专业团队一对一服务")
    rewritten = edited(first, title="CE认证 当天出证", description="另一段完全不同的文字")
    items = [first, near, rewritten]
    store.ingest_many(run_id, items, detect, channels=CHANNELS)
    for item in items:
        twin.ingest(twin_run, item, detect, channels=CHANNELS)
    batched, single = Snapshot(store), Snapshot(twin)
    # One by one, 1002 is filed under 1001 as a near duplicate of its first text.
    assert [g[2] for g in single.state["groups"]] == [("sandbox", "1001")] * 2
    assert batched.state["leads"] == single.state["leads"]  # score: duplicate bonus
    assert batched.state["groups"] == single.state["groups"]


# -- 2. the same listing twice in one batch -------------------------------------------


def test_same_listing_twice_with_same_content_is_one_version(store: Store, run_id: int) -> None:
    item = crawled(fetched_at=T0)
    again = crawled(fetched_at=T0 + HOUR)
    counting = CountingDetect()
    first, second = store.ingest_many(run_id, [item, again], counting, channels=CHANNELS)
    assert first.changed and first.new_listing and first.lead_created and first.findings == 1
    assert not second.changed and not second.new_listing and not second.lead_created
    assert second.findings == 0 and second.categories == ()
    assert second.listing_id == first.listing_id and second.version_id == first.version_id
    assert second.lead_id == first.lead_id
    counts = store.counts()
    assert counts["listings"] == 1 and counts["versions"] == 1 and counts["findings"] == 1
    assert counts["evidence"] == 2 and counts["outbox_pending"] == len(CHANNELS)
    lead = store.lead(first.lead_id or 0)
    assert lead is not None
    (listing,) = lead.listings
    assert listing.first_seen_at == T0


def test_same_listing_twice_in_batch_is_last_seen_at_the_later_sighting(
        store: Store, run_id: int) -> None:
    store.ingest_many(run_id, [crawled(fetched_at=T0), crawled(fetched_at=T0 + HOUR)],
                      detect, channels=CHANNELS)
    (lead,) = store.recent_leads()
    (listing,) = lead.listings
    assert listing.first_seen_at == T0
    assert listing.last_seen_at == T0 + HOUR  # as two single ingests record it


def test_same_listing_twice_with_new_content_is_two_versions(store: Store, run_id: int) -> None:
    item = crawled()
    later = edited(item, description="认证包过")
    first, second = store.ingest_many(run_id, [item, later], detect, channels=CHANNELS)
    assert first.changed and second.changed
    assert first.new_listing and not second.new_listing
    assert first.lead_created and not second.lead_created
    assert second.listing_id == first.listing_id
    assert second.version_id != first.version_id
    assert (first.findings, second.findings) == (1, 2)
    assert second.lead_id == first.lead_id
    counts = store.counts()
    assert counts["listings"] == 1 and counts["versions"] == 2 and counts["findings"] == 3
    assert counts["outbox_pending"] == len(CHANNELS)
    lead = store.lead(first.lead_id or 0)
    assert lead is not None
    (listing,) = lead.listings
    assert listing.version_id == second.version_id and listing.is_current
    assert listing.description == "认证包过"
    assert listing.captured_at == later.capture.fetched_at
    with Session(store.engine) as session:
        row = session.get(ListingRow, first.listing_id)
        assert row is not None
        assert row.current_version_id == second.version_id
        assert row.content_hash == later.listing.content_hash()


def test_same_listing_back_to_stored_content_within_batch_is_a_new_version(
        store: Store, run_id: int) -> None:
    """A → B → A: the last item differs from what the batch just stored, so it is new."""
    item = crawled()
    store.ingest(run_id, item, detect, channels=CHANNELS)
    changed = edited(item, description="认证包过")
    back = replace(item, capture=replace(item.capture, fetched_at=T0 + 2 * HOUR))
    counting = CountingDetect()
    results = store.ingest_many(run_id, [changed, back], counting, channels=CHANNELS)
    assert [r.changed for r in results] == [True, True]
    assert counting.calls == 2
    assert store.counts()["versions"] == 3
    lead = store.lead(results[0].lead_id or 0)
    assert lead is not None
    assert lead.listings[0].version_id == results[1].version_id
    assert lead.listings[0].description == "全国可办"


# -- 3. several flagged listings of one seller ----------------------------------------


def test_one_sellers_listings_in_one_batch_make_one_lead(store: Store, run_id: int) -> None:
    items = [crawled("1001"),
             crawled("1002", title="CE认证包过"),
             crawled("1003", title="体系认证咨询", description="材料不全也包过")]
    results = store.ingest_many(run_id, items, detect, channels=CHANNELS)
    assert [r.lead_created for r in results] == [True, False, False]
    lead_ids = {r.lead_id for r in results}
    assert len(lead_ids) == 1 and None not in lead_ids
    counts = store.counts()
    assert counts["leads"] == 1 and counts["listings"] == 3
    lead = store.lead(results[0].lead_id or 0)
    assert lead is not None
    assert sorted(v.listing_id for v in lead.listings) == ["1001", "1002", "1003"]
    assert lead.categories == ("fake_certificate", "false_advertising")
    assert lead.score == 3.0 + 2.0 + 2.0  # worst finding of each distinct text
    # Announced once per channel, after the refresh: the alert shows the whole lead.
    messages = store.claim_outbox(now=T0)
    assert sorted(m.channel for m in messages) == sorted(CHANNELS)
    assert {m.idempotency_key for m in messages} == {
        f"lead:{lead.id}:created:{c}" for c in CHANNELS}
    for message in messages:
        assert message.payload["lead_id"] == lead.id
        assert message.payload["score"] == lead.score
        assert message.payload["categories"] == list(lead.categories)
    with Session(store.engine) as session:
        profile = session.get(LeadProfile, lead.id)
        assert profile is not None
        assert profile.listing_count == 3 and profile.group_count == 3
        assert profile.rules == ["guaranteed_pass", "same_day_certificate"]


def test_batch_joins_a_lead_opened_by_an_earlier_ingest(store: Store, run_id: int) -> None:
    before = store.ingest(run_id, crawled("1001"), detect, channels=CHANNELS)
    results = store.ingest_many(
        run_id, [crawled("1002", title="CE认证包过"), crawled("1003", title="3C认证包过")],
        detect, channels=CHANNELS)
    assert [r.lead_id for r in results] == [before.lead_id] * 2
    assert not any(r.lead_created for r in results)
    assert store.counts()["outbox_pending"] == len(CHANNELS)  # only the first creation
    lead = store.lead(before.lead_id or 0)
    assert lead is not None
    assert len(lead.listings) == 3
    assert lead.score == 3.0 + 2.0 + 2.0


# -- 4. all or nothing ----------------------------------------------------------------


def _stored_rows(store: Store) -> dict[str, int]:
    counts = store.counts()
    return {k: counts[k] for k in ("sellers", "listings", "versions", "evidence", "findings",
                                   "leads", "outbox_pending")}


def test_detector_failing_on_one_item_stores_nothing_of_the_batch(
        store: Store, run_id: int) -> None:
    stored = store.ingest(run_id, crawled("0001"), detect, channels=CHANNELS)
    before = _stored_rows(store)

    def broken_on_1002(listing: Listing) -> list[Finding]:
        if listing.listing_id == "1002":
            raise RuntimeError("detector crashed")
        return detect(listing)

    items = [crawled("1001"), crawled("0001", description="认证包过", fetched_at=T0 + HOUR),
             crawled("1002"), crawled("1003")]
    with pytest.raises(RuntimeError, match="detector crashed"):
        store.ingest_many(run_id, items, broken_on_1002, channels=CHANNELS)
    assert _stored_rows(store) == before
    lead = store.lead(stored.lead_id or 0)
    assert lead is not None
    assert lead.listings[0].last_seen_at == T0 and lead.listings[0].version_id == (
        stored.version_id)
    assert_rows_name_existing_files(store)


def _block_folder_of(root: Path, data: bytes) -> Path:
    """Put a plain file where the evidence folder of ``data`` goes, so storing it fails
    the way a broken disk would (root ignores permissions, so a file it is)."""
    sha = hashlib.sha256(data).hexdigest()
    folder = root / sha[:2] / sha[2:4]
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"not a folder")
    return folder


def test_evidence_failure_mid_batch_stores_nothing_of_the_batch(
        store: Store, run_id: int, evidence_root: Path) -> None:
    store.ingest(run_id, crawled("0001"), detect, channels=CHANNELS)
    before = _stored_rows(store)
    items = [crawled("1001"), crawled("1002", title="CE认证包过"),
             crawled("1003", title="3C认证 当天出证", shop_id="shop-9")]
    blocker = _block_folder_of(evidence_root, items[2].capture.body)
    with pytest.raises(OSError):
        store.ingest_many(run_id, items, detect, channels=CHANNELS)
    assert _stored_rows(store) == before
    # The files of the items before the failure may stay behind (orphans), but no row
    # names a file that is not there.
    assert (evidence_root / store.evidence_store.relative_path(
        hashlib.sha256(items[0].capture.body).hexdigest())).is_file()
    assert_rows_name_existing_files(store)

    blocker.unlink()
    results = store.ingest_many(run_id, items, detect, channels=CHANNELS)
    assert all(r.changed and r.new_listing for r in results)
    assert store.counts()["listings"] == 4 and store.counts()["leads"] == 2
    assert_rows_name_existing_files(store)


def _null_text_on(listing_id: str) -> Detect:
    """A detector that hands the store a finding without text for one listing: the
    finding table refuses it (NOT NULL), inside the write transaction."""
    def detect_broken(listing: Listing) -> list[Finding]:
        found = detect(listing)
        if listing.listing_id == listing_id:
            return [replace(f, text=None) for f in found]  # type: ignore[arg-type]
        return found
    return detect_broken


def test_constraint_violation_mid_batch_stores_nothing_of_the_batch(
        store: Store, run_id: int) -> None:
    stored = store.ingest(run_id, crawled("0001"), detect, channels=CHANNELS)
    before = _stored_rows(store)
    items = [crawled("1001", shop_id="shop-9"), crawled("1002"),
             crawled("0001", description="认证包过", fetched_at=T0 + HOUR)]
    with pytest.raises(IntegrityError, match=r"(?i)null"):
        store.ingest_many(run_id, items, _null_text_on("1002"), channels=CHANNELS)
    assert _stored_rows(store) == before
    lead = store.lead(stored.lead_id or 0)
    assert lead is not None
    assert lead.listings[0].last_seen_at == T0
    assert lead.listings[0].version_id == stored.version_id
    assert_rows_name_existing_files(store)


# -- 5. results, detection and its timing ---------------------------------------------


def test_results_follow_item_order_and_only_changed_items_are_detected(
        store: Store, run_id: int) -> None:
    store.ingest_many(run_id, [crawled("0001"), crawled("0002", title="体系认证咨询")],
                      detect, channels=CHANNELS)
    items = [crawled("1001", title="CE认证包过"),
             crawled("0001", fetched_at=T0 + HOUR),  # unchanged
             crawled("1002", title="体系认证咨询 正规办理"),  # clean
             crawled("0002", title="体系认证咨询", fetched_at=T0 + HOUR),  # unchanged
             crawled("1003")]
    counting = CountingDetect()
    results = store.ingest_many(run_id, items, counting, channels=CHANNELS)
    assert counting.calls == 3
    ids = _listing_ids(store)
    assert [r.listing_id for r in results] == [ids[i.listing.listing_id] for i in items]
    assert [r.changed for r in results] == [True, False, True, False, True]
    assert [r.new_listing for r in results] == [True, False, True, False, True]
    assert [r.categories for r in results] == [
        ("false_advertising",), (), (), (), ("fake_certificate",)]
    assert [r.findings for r in results] == [1, 0, 0, 0, 1]
    for result in results:
        if result.changed:
            assert result.detect_seconds > 0
        else:
            assert result.detect_seconds == 0.0


def _listing_ids(store: Store) -> dict[str, int]:
    with Session(store.engine) as session:
        return {pid: id_ for id_, pid in session.execute(
            select(ListingRow.id, ListingRow.platform_listing_id))}


def test_unchanged_batch_again_calls_no_detector(store: Store, run_id: int) -> None:
    items = [crawled("1001"), crawled("1002", title="CE认证包过"),
             crawled("1003", title="体系认证咨询")]
    first = store.ingest_many(run_id, items, detect, channels=CHANNELS)
    before = store.counts()
    counting = CountingDetect()
    later = [replace(i, capture=replace(i.capture, fetched_at=T0 + HOUR)) for i in items]
    again = store.ingest_many(run_id, later, counting, channels=CHANNELS)
    assert counting.calls == 0
    assert not any(r.changed or r.new_listing or r.lead_created for r in again)
    assert [r.version_id for r in again] == [r.version_id for r in first]
    assert [r.lead_id for r in again] == [r.lead_id for r in first]
    assert all(r.detect_seconds == 0.0 and r.categories == () for r in again)
    assert store.counts() == before


def test_empty_batch(store: Store, run_id: int) -> None:
    assert store.ingest_many(run_id, [], detect, channels=CHANNELS) == []
    assert store.counts()["listings"] == 0


def test_item_without_listing_id_refuses_the_whole_batch(store: Store, run_id: int) -> None:
    bad = crawled("1002")
    bad = replace(bad, listing=replace(bad.listing, listing_id=""))
    counting = CountingDetect()
    with pytest.raises(ValueError, match="listing_id"):
        store.ingest_many(run_id, [crawled("1001"), bad], counting, channels=CHANNELS)
    assert counting.calls == 0
    assert store.counts()["listings"] == 0


# -- 6. deferred evidence sync --------------------------------------------------------


def _put_unsynced(files: EvidenceStore, count: int) -> list[tuple[bytes, str, Path]]:
    stored = []
    for n in range(count):
        data = f"<html>证据 {n}</html>".encode()
        sha, path = files.put(data, sync=False)
        stored.append((data, sha, path))
    return stored


@pytest.mark.parametrize("count", [1, SYNCFS_FROM - 1, SYNCFS_FROM, 3 * SYNCFS_FROM])
def test_unsynced_put_then_sync(tmp_path: Path, count: int) -> None:
    files = EvidenceStore(tmp_path / "ev")
    stored = _put_unsynced(files, count)
    files.sync([path for _, _, path in stored])
    for data, sha, path in stored:
        assert sha == hashlib.sha256(data).hexdigest()
        assert path == files.path(sha)
        assert path.read_bytes() == data
        assert files.read(sha) == data
        assert not path.stat().st_mode & 0o222
        # No temp files are left behind.
        assert [p.name for p in path.parent.iterdir()] == [sha]


def test_syncfs_is_used_on_linux() -> None:
    """The many-files path is really syncfs here, not a silent fall back to fsyncs."""
    if not sys.platform.startswith("linux"):
        pytest.skip("syncfs is Linux only")
    assert evidence_module._SYNCFS is not None


def test_sync_paths_differ_for_one_file_and_many(tmp_path: Path) -> None:
    """Few files are fsynced one by one (a missing one is an error); many are flushed
    with one syncfs of the evidence filesystem (no file is opened)."""
    files = EvidenceStore(tmp_path / "ev")
    missing = tmp_path / "ev" / "gone"
    with pytest.raises(FileNotFoundError):
        files.sync([missing])
    if evidence_module._SYNCFS is None:
        return
    stored = _put_unsynced(files, SYNCFS_FROM)
    files.sync([missing, *(path for _, _, path in stored[1:])])


def test_sync_of_nothing_is_a_no_op(tmp_path: Path) -> None:
    files = EvidenceStore(tmp_path / "never-made")
    files.sync([])  # the root does not exist: anything but a no-op would fail
    assert not (tmp_path / "never-made").exists()


def test_unsynced_put_is_idempotent(tmp_path: Path) -> None:
    files = EvidenceStore(tmp_path / "ev")
    sha, path = files.put(b"same", sync=False)
    assert files.put(b"same", sync=False) == (sha, path)
    assert files.put(b"same") == (sha, path)
    files.sync([path, path])
    assert files.read(sha) == b"same"


def test_batch_evidence_is_readable_after_ingest(store: Store, run_id: int) -> None:
    items = [crawled(f"{n}", title=f"认证{n} 当天出证", screenshot=b"\x89PNG" + bytes([n]))
             for n in range(2 * SYNCFS_FROM)]
    store.ingest_many(run_id, items, detect, channels=())
    rows = store.evidence_files()
    assert len(rows) == 3 * len(items)
    assert_rows_name_existing_files(store)
    bodies = {store.evidence_store.read(r.sha256) for r in rows if r.kind == "html"}
    assert bodies == {i.capture.body for i in items}


# -- 7. several platforms in one batch ------------------------------------------------


def test_same_listing_id_on_two_platforms_is_two_listings(store: Store, run_id: int) -> None:
    here = crawled("1001")
    there = crawled("1001", platform="othermall", title="CE认证包过")
    first, second = store.ingest_many(run_id, [here, there], detect, channels=CHANNELS)
    assert first.new_listing and second.new_listing
    assert first.listing_id != second.listing_id
    assert first.version_id != second.version_id
    counts = store.counts()
    assert counts["listings"] == 2 and counts["versions"] == 2 and counts["sellers"] == 2
    with Session(store.engine) as session:
        rows = {row.platform: row for row in session.scalars(select(ListingRow))}
        assert set(rows) == {"sandbox", "othermall"}
        assert {r.platform_listing_id for r in rows.values()} == {"1001"}
        assert rows["sandbox"].content_hash == here.listing.content_hash()
        assert rows["othermall"].content_hash == there.listing.content_hash()
        sellers = {s.id: s.platform for s in session.scalars(select(Seller))}
        assert sellers[rows["sandbox"].seller_id] == "sandbox"
        assert sellers[rows["othermall"].seller_id] == "othermall"
    # The same shop (same credit code) on both platforms is one lead with both listings.
    assert first.lead_id == second.lead_id and first.lead_created
    lead = store.lead(first.lead_id or 0)
    assert lead is not None
    assert sorted((v.platform, v.listing_id) for v in lead.listings) == [
        ("othermall", "1001"), ("sandbox", "1001")]
    # Ingested again, each is unchanged on its own platform.
    later = [replace(i, capture=replace(i.capture, fetched_at=T0 + HOUR)) for i in (here, there)]
    again = store.ingest_many(run_id, later, detect, channels=CHANNELS)
    assert [r.changed for r in again] == [False, False]
    assert [r.listing_id for r in again] == [first.listing_id, second.listing_id]


def test_batch_capture_times_must_be_aware(store: Store, run_id: int) -> None:
    naive = crawled("1002", fetched_at=datetime(2024, 3, 1, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.ingest_many(run_id, [crawled("1001"), naive], detect, channels=CHANNELS)
    assert store.counts()["listings"] == 0
