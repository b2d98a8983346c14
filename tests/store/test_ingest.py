"""Ingesting crawled listings: versions, evidence, findings, leads and outbox rows."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.enums import EvidenceKind, LeadStatus
from store.models import Evidence, Outbox
from store.service import Store
from tests.store.conftest import CHANNELS, T0, Clock, CountingDetect, crawled, detect, edited

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_new_flagged_listing_makes_version_evidence_findings_lead_and_outbox(
        store: Store, run_id: int) -> None:
    result = store.ingest(run_id, crawled(screenshot=PNG), detect, channels=CHANNELS)
    assert result.changed and result.new_listing and result.lead_created
    assert result.findings == 1
    assert result.lead_id is not None
    counts = store.counts()
    assert counts["listings"] == 1
    assert counts["versions"] == 1
    assert counts["findings"] == 1
    assert counts["evidence"] == 3
    assert counts["leads"] == 1
    assert counts["outbox_pending"] == 2

    lead = store.lead(result.lead_id)
    assert lead is not None
    assert lead.status is LeadStatus.NEW
    assert lead.new_at == T0 and lead.created_at == T0
    assert lead.in_review_at is None
    assert lead.platform == "sandbox"
    assert lead.shop_name == "某某认证咨询"
    assert lead.credit_code == "91340100MA2TXXXX0X"
    assert lead.categories == ("fake_certificate",)
    assert lead.score == 3.0
    (listing,) = lead.listings
    assert listing.id == result.listing_id
    assert listing.version_id == result.version_id and listing.is_current
    assert listing.title == "ISO9001认证 当天出证"
    assert listing.description == "全国可办"
    (finding,) = listing.findings
    assert (finding.rule, finding.field, finding.start, finding.end, finding.text) == (
        "same_day_certificate", "title", 10, 14, "当天出证")
    assert listing.title[finding.start:finding.end] == finding.text
    assert finding.legal_basis == ("认证认可条例 第七十条",)
    assert {e.kind for e in listing.evidence} == set(EvidenceKind)
    shot = next(e for e in listing.evidence if e.kind is EvidenceKind.SCREENSHOT)
    assert shot.content_type == "image/png" and shot.size == len(PNG)


def test_outbox_payload(store: Store, run_id: int) -> None:
    result = store.ingest(run_id, crawled(), detect, channels=CHANNELS)
    messages = store.claim_outbox(now=T0)
    assert sorted(m.channel for m in messages) == sorted(CHANNELS)
    keys = {m.idempotency_key for m in messages}
    assert keys == {f"lead:{result.lead_id}:created:{c}" for c in CHANNELS}
    payload = messages[0].payload
    assert payload["lead_id"] == result.lead_id
    assert payload["platform"] == "sandbox"
    assert payload["shop"] == "某某认证咨询"
    assert payload["credit_code"] == "91340100MA2TXXXX0X"
    assert payload["categories"] == ["fake_certificate"]
    assert payload["score"] == 3.0
    assert payload["listings"] == [{
        "listing_id": "1001", "url": "http://127.0.0.1:8765/item/1001",
        "title": "ISO9001认证 当天出证",
        "findings": [{"rule": "same_day_certificate", "category": "fake_certificate",
                      "field": "title", "start": 10, "end": 14, "text": "当天出证"}]}]
    json.dumps(payload)  # plain JSON data


def test_same_content_again_changes_nothing(store: Store, run_id: int) -> None:
    first = store.ingest(run_id, crawled(), detect, channels=CHANNELS)
    before = store.counts()
    counting = CountingDetect()
    later = crawled(fetched_at=T0 + timedelta(hours=1))
    again = store.ingest(run_id, later, counting, channels=CHANNELS)
    assert counting.calls == 0
    assert not again.changed and not again.new_listing and not again.lead_created
    assert again.listing_id == first.listing_id
    assert again.version_id == first.version_id
    assert again.lead_id == first.lead_id
    assert store.counts() == before
    lead = store.lead(first.lead_id or 0)
    assert lead is not None
    assert lead.listings[0].last_seen_at == T0 + timedelta(hours=1)
    assert lead.listings[0].first_seen_at == T0


def test_changed_content_makes_new_version_and_redetects(store: Store, run_id: int) -> None:
    item = crawled()
    first = store.ingest(run_id, item, detect, channels=CHANNELS)
    counting = CountingDetect()
    second = store.ingest(run_id, edited(item, description="认证包过"), counting,
                          channels=CHANNELS)
    assert counting.calls == 1
    assert second.changed and not second.new_listing
    assert second.listing_id == first.listing_id
    assert second.version_id != first.version_id
    assert second.findings == 2
    assert second.lead_id == first.lead_id and not second.lead_created
    counts = store.counts()
    assert counts["versions"] == 2 and counts["findings"] == 3
    assert counts["outbox_pending"] == len(CHANNELS)  # only the creation alert
    lead = store.lead(second.lead_id or 0)
    assert lead is not None
    assert lead.categories == ("fake_certificate", "false_advertising")
    assert lead.listings[0].version_id == second.version_id
    assert lead.listings[0].description == "认证包过"
    assert [f.rule for f in lead.listings[0].findings] == [
        "guaranteed_pass", "same_day_certificate"]


def test_listing_edited_clean_keeps_its_flagged_version_on_the_lead(
        store: Store, run_id: int) -> None:
    item = crawled()
    first = store.ingest(run_id, item, detect, channels=CHANNELS)
    clean = store.ingest(run_id, edited(item, title="ISO9001认证咨询"), detect,
                         channels=CHANNELS)
    assert clean.changed and clean.findings == 0
    assert clean.lead_id == first.lead_id
    lead = store.lead(first.lead_id or 0)
    assert lead is not None
    (listing,) = lead.listings
    assert listing.version_id == first.version_id and not listing.is_current
    assert listing.title == "ISO9001认证 当天出证"
    assert lead.categories == ("fake_certificate",)


def test_listing_without_findings_makes_no_lead(store: Store, run_id: int) -> None:
    result = store.ingest(run_id, crawled(title="ISO9001认证咨询 需现场审核"), detect,
                          channels=CHANNELS)
    assert result.changed and result.findings == 0
    assert result.lead_id is None and not result.lead_created
    counts = store.counts()
    assert counts["versions"] == 1 and counts["evidence"] == 0  # evidence of flagged only
    assert counts["leads"] == 0 and counts["outbox_pending"] == 0


def _evidence_kinds(store: Store, version_id: int) -> set[str]:
    return {e.kind for e in store.evidence_files() if e.version_id == version_id}


def test_evidence_is_kept_from_the_first_flagged_version_on(store: Store, run_id: int) -> None:
    """A listing never flagged keeps no files; its flagged version does, and so does every
    later version, clean ones too (what the seller changed, for the takedown follow-up)."""
    clean = crawled(title="ISO9001认证咨询 需现场审核")
    first = store.ingest(run_id, clean, detect, channels=CHANNELS)
    flagged = store.ingest(run_id, edited(clean, title="ISO9001认证 当天出证"), detect,
                           channels=CHANNELS)
    cleaned = store.ingest(run_id, edited(clean, title="ISO9001认证咨询"), detect,
                           channels=CHANNELS)
    assert flagged.findings and not cleaned.findings
    assert _evidence_kinds(store, first.version_id) == set()
    assert _evidence_kinds(store, flagged.version_id) == {"html", "capture_record"}
    assert _evidence_kinds(store, cleaned.version_id) == {"html", "capture_record"}


def test_evidence_of_a_version_cleaned_in_the_same_batch(store: Store, run_id: int) -> None:
    item = crawled()
    flagged, cleaned = store.ingest_many(
        run_id, [item, edited(item, title="ISO9001认证咨询")], detect, channels=CHANNELS)
    assert flagged.findings and cleaned.changed and not cleaned.findings
    assert _evidence_kinds(store, cleaned.version_id) == {"html", "capture_record"}


def test_second_flagged_listing_of_seller_joins_the_same_lead(store: Store, run_id: int) -> None:
    first = store.ingest(run_id, crawled("1001"), detect, channels=CHANNELS)
    second = store.ingest(run_id, crawled("1002", title="CE认证包过"), detect,
                          channels=CHANNELS)
    assert second.new_listing and second.lead_id == first.lead_id
    assert not second.lead_created
    counts = store.counts()
    assert counts["leads"] == 1 and counts["outbox_pending"] == len(CHANNELS)
    lead = store.lead(first.lead_id or 0)
    assert lead is not None
    assert [v.listing_id for v in lead.listings] == ["1001", "1002"]
    assert lead.categories == ("fake_certificate", "false_advertising")
    assert lead.score == 3.0 + 2.0


def test_other_seller_gets_its_own_lead(store: Store, run_id: int) -> None:
    first = store.ingest(run_id, crawled("1001"), detect, channels=CHANNELS)
    other = store.ingest(run_id, crawled("2001", shop_id="shop-9", shop_name="另一家"),
                         detect, channels=CHANNELS)
    assert other.lead_created and other.lead_id != first.lead_id
    # Without a shop id the shop name identifies the seller.
    by_name = store.ingest(run_id, crawled("3001", shop_id=None, shop_name="无编号店"),
                           detect, channels=CHANNELS)
    again = store.ingest(run_id, crawled("3002", shop_id=None, shop_name="无编号店"),
                         detect, channels=CHANNELS)
    assert again.lead_id == by_name.lead_id
    assert [lead.id for lead in store.recent_leads()] == sorted(
        {first.lead_id, other.lead_id, by_name.lead_id}, key=lambda i: -(i or 0))


def test_evidence_files_match_their_rows(store: Store, run_id: int,
                                         evidence_root: Path) -> None:
    item = crawled(screenshot=PNG)
    result = store.ingest(run_id, item, detect, channels=())
    with Session(store.engine) as session:
        rows = session.scalars(select(Evidence).where(
            Evidence.version_id == result.version_id)).all()
    assert len(rows) == 3
    for row in rows:
        path = evidence_root / row.path
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256
        assert len(data) == row.size
        assert row.fetched_at == T0
        assert row.url == item.capture.url and row.final_url == item.capture.final_url
        assert row.http_status == 200 and row.tool == "jingwang-test/1"
    by_kind = {row.kind: row for row in rows}
    assert (evidence_root / by_kind[EvidenceKind.HTML].path).read_bytes() == item.capture.body
    assert by_kind[EvidenceKind.HTML].content_type == "text/html; charset=utf-8"
    record = json.loads((evidence_root / by_kind[EvidenceKind.CAPTURE_RECORD].path).read_text())
    assert record["html_sha256"] == by_kind[EvidenceKind.HTML].sha256
    assert record["screenshot_sha256"] == by_kind[EvidenceKind.SCREENSHOT].sha256
    assert record["fetched_at"] == "2024-03-01T08:00:00+00:00"
    assert record["final_url"] == item.capture.final_url
    assert record["headers"] == {"Content-Type": "text/html; charset=utf-8"}
    view = store.evidence(by_kind[EvidenceKind.HTML].sha256)
    assert view is not None and view.kind is EvidenceKind.HTML
    assert store.evidence_store.read(view.sha256) == item.capture.body
    assert store.evidence("f" * 64) is None


def test_no_channels_no_outbox(store: Store, run_id: int) -> None:
    result = store.ingest(run_id, crawled(), detect, channels=())
    assert result.lead_created
    with Session(store.engine) as session:
        assert session.scalars(select(Outbox)).all() == []


def test_datetimes_come_back_aware_utc(store: Store, run_id: int) -> None:
    beijing = timezone(timedelta(hours=8))
    fetched = datetime(2024, 3, 1, 16, 0, tzinfo=beijing)
    result = store.ingest(run_id, crawled(fetched_at=fetched), detect, channels=())
    lead = store.lead(result.lead_id or 0)
    assert lead is not None
    listing = lead.listings[0]
    assert listing.captured_at == fetched
    assert listing.captured_at is not None and listing.captured_at.tzinfo == UTC
    assert listing.captured_at.hour == 8


def test_naive_capture_time_is_refused(store: Store, run_id: int) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.ingest(run_id, crawled(fetched_at=datetime(2024, 3, 1, 8, 0)), detect,
                     channels=())
    assert store.counts()["listings"] == 0


def test_failed_ingest_leaves_nothing(store: Store, run_id: int) -> None:
    def broken(listing: object) -> list[object]:
        raise RuntimeError("detector crashed")

    with pytest.raises(RuntimeError):
        store.ingest(run_id, crawled(), broken, channels=CHANNELS)  # type: ignore[arg-type]
    counts = store.counts()
    assert counts["listings"] == 0 and counts["sellers"] == 0 and counts["versions"] == 0


def test_mark_removed(store: Store, run_id: int) -> None:
    store.ingest(run_id, crawled("1001"), detect, channels=())
    store.ingest(run_id, crawled("1002"), detect, channels=())
    gone = T0 + timedelta(days=1)
    assert store.mark_removed(platform="sandbox", listing_id="1001", at=gone)
    assert store.mark_removed(platform="sandbox", url="http://127.0.0.1:8765/item/1002",
                              at=gone + timedelta(hours=1))
    assert not store.mark_removed(platform="sandbox", listing_id="9999", at=gone)
    assert not store.mark_removed(platform="other", listing_id="1001", at=gone)
    # Removing again keeps the first time.
    assert store.mark_removed(platform="sandbox", listing_id="1001", at=gone + timedelta(days=3))
    with pytest.raises(ValueError):
        store.mark_removed(platform="sandbox", at=gone)
    lead = store.recent_leads()[0]
    removed = {v.listing_id: v.removed_at for v in lead.listings}
    assert removed == {"1001": gone, "1002": gone + timedelta(hours=1)}
    # Seen again: back on the platform.
    store.ingest(run_id, crawled("1001", fetched_at=gone + timedelta(days=2)), detect,
                 channels=())
    lead = store.recent_leads()[0]
    assert {v.listing_id: v.removed_at for v in lead.listings}["1001"] is None


def test_recent_leads_paging(store: Store, run_id: int, clock: Clock) -> None:
    ids = []
    for n in range(5):
        result = store.ingest(run_id, crawled(f"{n}", shop_id=f"s{n}"), detect, channels=())
        ids.append(result.lead_id)
        clock.tick(60)
    newest_first = list(reversed(ids))
    assert [lead.id for lead in store.recent_leads(limit=2)] == newest_first[:2]
    assert [lead.id for lead in store.recent_leads(limit=2, offset=2)] == newest_first[2:4]
    assert [lead.id for lead in store.recent_leads(limit=10, offset=4)] == newest_first[4:]
    assert store.lead(10_000) is None
