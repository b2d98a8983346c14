"""The steps of ingesting one crawled listing, each run inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
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


def upsert_seller(session: Session, listing: Listing, *, now: datetime) -> Seller:
    key = shop_key(listing)
    row = session.scalars(select(Seller).where(
        Seller.platform == listing.platform, Seller.shop_key == key)).one_or_none()
    shown = listing.seller
    if row is None:
        row = Seller(platform=listing.platform, shop_key=key, shop_id=shown.shop_id,
                     name=shown.name, credit_code=shown.credit_code,
                     license_text=shown.license_text, shop_url=shown.shop_url,
                     created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        return row
    # The newest page wins, but a page that omits a field does not erase it.
    changed = False
    for attr in ("shop_id", "name", "credit_code", "license_text", "shop_url"):
        value = getattr(shown, attr)
        if value and getattr(row, attr) != value:
            setattr(row, attr, value)
            changed = True
    if changed:
        row.updated_at = now
    return row


def lock_listing(session: Session, listing: Listing) -> ListingRow | None:
    """The listing row, locked until commit so concurrent ingests of it take turns."""
    return session.scalars(
        select(ListingRow)
        .where(ListingRow.platform == listing.platform,
               ListingRow.platform_listing_id == bounded_key(listing.listing_id))
        .with_for_update()).one_or_none()


def insert_version(session: Session, *, listing_row: ListingRow, listing: Listing,
                   content_hash: str, captured_at: datetime, run_id: int) -> ListingVersion:
    version = ListingVersion(
        listing_id=listing_row.id, content_hash=content_hash, title=listing.title,
        description=listing.description, price=listing.price,
        seller_snapshot=asdict(listing.seller), images=list(listing.images),
        image_texts=list(listing.image_texts), captured_at=captured_at, run_id=run_id)
    session.add(version)
    session.flush()
    return version


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


def store_evidence(session: Session, files: EvidenceStore, *, version: ListingVersion,
                   capture: Capture, listing: Listing, source: str) -> None:
    """Write the files first, then their rows: a row never names a file that is missing."""
    html_sha, _ = files.put(capture.body)
    shot_sha = files.put(capture.screenshot)[0] if capture.screenshot else None
    record = capture_record(capture, listing, html_sha256=html_sha,
                            screenshot_sha256=shot_sha, source=source)
    record_sha, _ = files.put(record)
    html_type = _header(capture.headers, "content-type") or "text/html"
    items: list[tuple[EvidenceKind, str, int, str]] = [
        (EvidenceKind.HTML, html_sha, len(capture.body), html_type[:KEY_LENGTH]),
        (EvidenceKind.CAPTURE_RECORD, record_sha, len(record), "application/json"),
    ]
    if capture.screenshot and shot_sha:
        items.append((EvidenceKind.SCREENSHOT, shot_sha, len(capture.screenshot),
                      _image_type(capture.screenshot)))
    for kind, sha256, size, content_type in items:
        session.add(Evidence(
            version_id=version.id, kind=kind, sha256=sha256, size=size,
            content_type=content_type, url=capture.url, final_url=capture.final_url,
            http_status=capture.status, fetched_at=capture.fetched_at, tool=capture.tool,
            path=files.relative_path(sha256)))


def insert_findings(session: Session, version: ListingVersion,
                    findings: Sequence[Finding]) -> None:
    for finding in findings:
        session.add(FindingRow(
            version_id=version.id, rule=finding.rule, category=finding.category,
            field=finding.field, start=finding.start, end=finding.end, text=finding.text,
            severity=finding.severity, legal_basis=list(finding.legal_basis),
            evasions=list(finding.evasions), lexicon_version=finding.lexicon_version,
            detail=dict(finding.detail)))


def open_lead_of(session: Session, seller_id: int, *, lock: bool = False) -> Lead | None:
    query = select(Lead).where(Lead.seller_id == seller_id,
                               Lead.status.not_in(CLOSED_LEAD_STATUSES))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def open_lead_of_listing(session: Session, listing_id: int) -> int | None:
    return session.scalars(
        select(Lead.id).join(LeadListing, LeadListing.lead_id == Lead.id)
        .where(LeadListing.listing_id == listing_id,
               Lead.status.not_in(CLOSED_LEAD_STATUSES))
        .order_by(Lead.id.desc()).limit(1)).first()


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

