"""The steps of ingesting one crawled listing, each run inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from jingwang.records import Capture, Finding, Listing
from store.enums import CLOSED_LEAD_STATUSES, EvidenceKind, OutboxStatus
from store.evidence import EvidenceStore
from store.models import (
    KEY_LENGTH,
    AuditEvent,
    Evidence,
    FindingRow,
    Lead,
    LeadListing,
    ListingVersion,
    Outbox,
    Seller,
)
from store.models import Listing as ListingRow

SYSTEM_ACTOR = "system"


def bounded_key(value: str) -> str:
    """``value`` if it fits a key column, else a digest of it (keys stay unique and indexable)."""
    if len(value) <= KEY_LENGTH:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def shop_key(listing: Listing) -> str:
    """The seller's identity on its platform: the shop id, else the shop name.

    A listing that shows neither gets a seller of its own rather than being lumped
    together with every other anonymous listing of the platform.
    """
    seller = listing.seller
    key = (seller.shop_id or "").strip() or seller.name.strip()
    return bounded_key(key or f"listing:{listing.listing_id}")


def seller_key(listing: Listing) -> tuple[str, str]:
    """(platform, shop key): how the sellers of a batch are looked up."""
    return listing.platform, shop_key(listing)


def by_platform(keys: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """(platform, key) pairs grouped as one sorted key list per platform, platforms in
    order: one ``IN`` query per platform, rows always taken in the same order."""
    grouped: dict[str, set[str]] = {}
    for platform, key in keys:
        grouped.setdefault(platform, set()).add(key)
    return [(platform, sorted(grouped[platform])) for platform in sorted(grouped)]


def upsert_sellers(session: Session, listings: Sequence[Listing], *, now: datetime,
                   created: set[int] | None = None) -> dict[tuple[str, str], Seller]:
    """The sellers of ``listings`` by (platform, shop key), created or updated: one query
    for the ones already stored, one flush for the new ones (their ids go to ``created``)."""
    sellers: dict[tuple[str, str], Seller] = {}
    for platform, keys in by_platform(map(seller_key, listings)):
        for stored in session.scalars(select(Seller).where(
                Seller.platform == platform, Seller.shop_key.in_(keys))):
            sellers[(platform, stored.shop_key)] = stored
    added: list[Seller] = []
    for listing in listings:
        key = seller_key(listing)
        shown = listing.seller
        row = sellers.get(key)
        if row is None:
            row = sellers[key] = Seller(
                platform=listing.platform, shop_key=key[1], shop_id=shown.shop_id,
                name=shown.name, credit_code=shown.credit_code,
                license_text=shown.license_text, shop_url=shown.shop_url,
                created_at=now, updated_at=now)
            session.add(row)
            added.append(row)
            continue
        # The newest page wins, but a page that omits a field does not erase it.
        changed = False
        for attr in ("shop_id", "name", "credit_code", "license_text", "shop_url"):
            value = getattr(shown, attr)
            if value and getattr(row, attr) != value:
                setattr(row, attr, value)
                changed = True
        if changed:
            row.updated_at = now
    if added:
        session.flush()
        if created is not None:
            created.update(row.id for row in added)
    return sellers


def listing_key(listing: Listing) -> tuple[str, str]:
    return listing.platform, bounded_key(listing.listing_id)


def lock_listings(session: Session,
                  listings: Sequence[Listing]) -> dict[tuple[str, str], ListingRow]:
    """The stored rows of ``listings``, locked until commit so concurrent ingests of a
    listing take turns; always locked in id order, so two batches cannot deadlock."""
    rows: dict[tuple[str, str], ListingRow] = {}
    for platform, keys in by_platform(map(listing_key, listings)):
        for row in session.scalars(
                select(ListingRow)
                .where(ListingRow.platform == platform,
                       ListingRow.platform_listing_id.in_(keys))
                .order_by(ListingRow.id).with_for_update()):
            rows[(platform, row.platform_listing_id)] = row
    return rows


def stored_hashes(session: Session, listings: Sequence[Listing]) -> dict[tuple[str, str], str]:
    """The content hash stored for each of ``listings`` that has a current version."""
    hashes: dict[tuple[str, str], str] = {}
    for platform, keys in by_platform(map(listing_key, listings)):
        for key, content_hash in session.execute(
                select(ListingRow.platform_listing_id, ListingRow.content_hash)
                .where(ListingRow.platform == platform,
                       ListingRow.platform_listing_id.in_(keys),
                       ListingRow.current_version_id.is_not(None))):
            if content_hash:
                hashes[(platform, key)] = content_hash
    return hashes


def version_row(*, listing_id: int, listing: Listing, content_hash: str,
                captured_at: datetime, run_id: int) -> dict[str, Any]:
    return {"listing_id": listing_id, "content_hash": content_hash, "title": listing.title,
            "description": listing.description, "price": listing.price,
            "seller_snapshot": asdict(listing.seller), "images": list(listing.images),
            "image_texts": list(listing.image_texts), "captured_at": captured_at,
            "run_id": run_id}


def insert_versions(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert version rows in one statement; their ids, in the order of ``rows``."""
    if not rows:
        return []
    return list(session.scalars(
        insert(ListingVersion).returning(ListingVersion.id, sort_by_parameter_order=True),
        list(rows)))


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def capture_record(capture: Capture, listing: Listing, *, html_sha256: str,
                   screenshot_sha256: str | None, source: str) -> bytes:
    """The JSON record of how the HTML was fetched; it names the HTML by its SHA-256."""
    record: dict[str, Any] = {
        "url": capture.url,
        "final_url": capture.final_url,
        "status": capture.status,
        "headers": dict(capture.headers),
        "fetched_at": capture.fetched_at.isoformat(),
        "tool": capture.tool,
        "html_sha256": html_sha256,
        "html_size": len(capture.body),
        "platform": listing.platform,
        "listing_id": listing.listing_id,
        "source": source,
    }
    if screenshot_sha256:
        record["screenshot_sha256"] = screenshot_sha256
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=2)
    return text.encode("utf-8")


def store_evidence(files: EvidenceStore, *, version_id: int, capture: Capture,
                   listing: Listing, source: str,
                   rows: list[dict[str, Any]]) -> list[Path]:
    """Write the evidence files of a version and add their rows to ``rows`` — files
    first: a row never names a file that is missing.

    The files are not synced yet: the caller passes the returned paths to
    ``EvidenceStore.sync`` before it commits the rows."""
    html_sha, html_path = files.put(capture.body, sync=False)
    written = [html_path]
    shot_sha = None
    if capture.screenshot:
        shot_sha, shot_path = files.put(capture.screenshot, sync=False)
        written.append(shot_path)
    record = capture_record(capture, listing, html_sha256=html_sha,
                            screenshot_sha256=shot_sha, source=source)
    record_sha, record_path = files.put(record, sync=False)
    written.append(record_path)
    html_type = _header(capture.headers, "content-type") or "text/html"
    items: list[tuple[EvidenceKind, str, int, str]] = [
        (EvidenceKind.HTML, html_sha, len(capture.body), html_type[:KEY_LENGTH]),
        (EvidenceKind.CAPTURE_RECORD, record_sha, len(record), "application/json"),
    ]
    if capture.screenshot and shot_sha:
        items.append((EvidenceKind.SCREENSHOT, shot_sha, len(capture.screenshot),
                      _image_type(capture.screenshot)))
    rows.extend({"version_id": version_id, "kind": kind, "sha256": sha256, "size": size,
                 "content_type": content_type, "url": capture.url,
                 "final_url": capture.final_url, "http_status": capture.status,
                 "fetched_at": capture.fetched_at, "tool": capture.tool,
                 "path": files.relative_path(sha256)}
                for kind, sha256, size, content_type in items)
    return written


def finding_rows(version_id: int, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{"version_id": version_id, "rule": f.rule, "category": f.category,
             "field": f.field, "start": f.start, "end": f.end, "text": f.text,
             "severity": f.severity, "legal_basis": list(f.legal_basis),
             "evasions": list(f.evasions), "lexicon_version": f.lexicon_version,
             "detail": dict(f.detail)} for f in findings]


def insert_rows(session: Session, model: type[Evidence] | type[FindingRow],
                rows: Sequence[dict[str, Any]]) -> None:
    """One multi-row INSERT (SQLAlchemy's ORM bulk insert) for many rows of ``model``."""
    if rows:
        session.execute(insert(model), list(rows))


def open_lead_of(session: Session, seller_id: int, *, lock: bool = False) -> Lead | None:
    query = select(Lead).where(Lead.seller_id == seller_id,
                               Lead.status.not_in(CLOSED_LEAD_STATUSES))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def open_leads_of_listings(session: Session, listing_ids: Iterable[int]) -> dict[int, int]:
    """The newest open lead of each listing that is in one (listing id → lead id)."""
    ids = sorted(set(listing_ids))
    if not ids:
        return {}
    return {listing_id: lead_id for listing_id, lead_id in session.execute(
        select(LeadListing.listing_id, func.max(Lead.id))
        .join(Lead, LeadListing.lead_id == Lead.id)
        .where(LeadListing.listing_id.in_(ids), Lead.status.not_in(CLOSED_LEAD_STATUSES))
        .group_by(LeadListing.listing_id))}


def lead_payload(*, lead: Lead, seller: Seller, listing_row: ListingRow, listing: Listing,
                 findings: Sequence[Finding]) -> dict[str, Any]:
    """The alert payload of a new lead: plain JSON data, no ORM objects."""
    return {
        "lead_id": lead.id,
        "status": lead.status.value,
        "created_at": lead.created_at.isoformat(),
        "platform": seller.platform,
        "shop": seller.name,
        "shop_id": seller.shop_id,
        "credit_code": seller.credit_code,
        "categories": list(lead.categories),
        "score": lead.score,
        "listings": [{
            "listing_id": listing_row.platform_listing_id,
            "url": listing_row.url,
            "title": listing.title,
            "findings": [{"rule": f.rule, "category": f.category, "field": f.field,
                          "start": f.start, "end": f.end, "text": f.text}
                         for f in findings],
        }],
    }


def enqueue(session: Session, *, lead_id: int, event: str, channels: Sequence[str],
            payload: dict[str, Any], now: datetime) -> None:
    """One outbox row per channel; the idempotency key makes a second enqueue impossible."""
    for channel in dict.fromkeys(channels):
        session.add(Outbox(
            lead_id=lead_id, channel=channel,
            idempotency_key=bounded_key(f"lead:{lead_id}:{event}:{channel}"),
            payload=payload, status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
            created_at=now))


def audit(session: Session, *, at: datetime, actor: str, action: str, object_type: str,
          object_id: int | str, detail: dict[str, Any]) -> None:
    session.add(AuditEvent(at=at, actor=actor[:KEY_LENGTH], action=action,
                           object_type=object_type, object_id=str(object_id), detail=detail))

