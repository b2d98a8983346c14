"""The steps of ingesting one crawled listing, each run inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import DeclarativeBase, Session

from jingwang.records import Capture, Finding, Listing
from store.db import Ids
from store.enums import CLOSED_LEAD_STATUSES, EvidenceKind, OutboxStatus
from store.evidence import EvidenceStore
from store.models import (
    KEY_LENGTH,
    AuditEvent,
    Lead,
    LeadListing,
    ListingVersion,
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


SELLERS = cast(Table, Seller.__table__)
LISTINGS = cast(Table, ListingRow.__table__)
SELLER_FIELDS = ("shop_id", "name", "credit_code", "license_text", "shop_url")


@dataclass(slots=True)
class SellerState:
    """A seller as one ingest transaction reads and writes it: plain data, written back
    with Core statements (the ORM's unit of work costs more than the rest of a batch)."""

    id: int
    platform: str
    shop_key: str
    shop_id: str | None
    name: str
    credit_code: str | None
    license_text: str | None
    shop_url: str | None


@dataclass(slots=True)
class ListingState:
    """A listing row as one ingest transaction reads and writes it (see SellerState)."""

    id: int
    platform: str
    platform_listing_id: str
    url: str | None
    seller_id: int
    content_hash: str | None
    current_version_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime
    removed_at: datetime | None


def _values(state: SellerState | ListingState) -> dict[str, Any]:
    """A state's fields as column values (``dataclasses.asdict`` deep-copies each one)."""
    return {f.name: getattr(state, f.name) for f in fields(state)}


_LISTING_UPDATES = ("last_seen_at", "removed_at", "seller_id", "url", "content_hash",
                    "current_version_id")


def upsert_sellers(session: Session, ids: Ids, listings: Sequence[Listing], *,
                   now: datetime, created: set[int] | None = None
                   ) -> dict[tuple[str, str], SellerState]:
    """The sellers of ``listings`` by (platform, shop key), created or updated: one query
    for the ones already stored, one insert for the new ones (their ids go to
    ``created``), one executemany for the changed ones."""
    sellers: dict[tuple[str, str], SellerState] = {}
    for platform, keys in by_platform(map(seller_key, listings)):
        for row in session.execute(
                select(SELLERS.c.id, SELLERS.c.platform, SELLERS.c.shop_key,
                       *(SELLERS.c[name] for name in SELLER_FIELDS))
                .where(SELLERS.c.platform == platform, SELLERS.c.shop_key.in_(keys))):
            stored = SellerState(*row)
            sellers[(platform, stored.shop_key)] = stored
    missing = {key for key in map(seller_key, listings) if key not in sellers}
    new_ids = iter(ids.take(Seller, len(missing)))
    added: dict[int, SellerState] = {}
    changed: dict[int, SellerState] = {}
    for listing in listings:
        key = seller_key(listing)
        shown = listing.seller
        state = sellers.get(key)
        if state is None:
            seller_id = next(new_ids)
            state = sellers[key] = added[seller_id] = SellerState(
                seller_id, listing.platform, key[1], shown.shop_id, shown.name,
                shown.credit_code, shown.license_text, shown.shop_url)
            continue
        # The newest page wins, but a page that omits a field does not erase it.
        for name in SELLER_FIELDS:
            value = getattr(shown, name)
            if value and getattr(state, name) != value:
                setattr(state, name, value)
                if state.id not in added:
                    changed[state.id] = state
    insert_rows(session, Seller, [{**_values(state), "created_at": now, "updated_at": now}
                                  for state in added.values()])
    if changed:
        session.execute(
            update(SELLERS).where(SELLERS.c.id == bindparam("b_id")),
            [{"b_id": state.id, "updated_at": now,
              **{name: getattr(state, name) for name in SELLER_FIELDS}}
             for state in changed.values()])
    if created is not None:
        created.update(added)
    return sellers


def listing_key(listing: Listing) -> tuple[str, str]:
    return listing.platform, bounded_key(listing.listing_id)


def lock_listings(session: Session,
                  listings: Sequence[Listing]) -> dict[tuple[str, str], ListingState]:
    """The stored rows of ``listings``, locked until commit so concurrent ingests of a
    listing take turns; always locked in id order, so two batches cannot deadlock."""
    rows: dict[tuple[str, str], ListingState] = {}
    columns = [LISTINGS.c[f.name] for f in fields(ListingState)]
    for platform, keys in by_platform(map(listing_key, listings)):
        for row in session.execute(
                select(*columns)
                .where(LISTINGS.c.platform == platform,
                       LISTINGS.c.platform_listing_id.in_(keys))
                .order_by(LISTINGS.c.id).with_for_update()):
            state = ListingState(*row)
            rows[(platform, state.platform_listing_id)] = state
    return rows


def insert_listings(session: Session, rows: Iterable[ListingState]) -> None:
    insert_rows(session, ListingRow, [_values(row) for row in rows])


def update_listings(session: Session, rows: Iterable[ListingState],
                    names: Sequence[str] = _LISTING_UPDATES) -> None:
    """Write ``names`` of every row back, in one executemany."""
    values = [{"b_id": row.id, **{name: getattr(row, name) for name in names}}
              for row in rows]
    if values:
        session.execute(update(LISTINGS).where(LISTINGS.c.id == bindparam("b_id")), values)


@dataclass(frozen=True, slots=True)
class StoredListing:
    """What the look ahead of a batch needs to know about a stored listing."""

    content_hash: str | None  # of its current version (None: no version yet)
    in_lead: bool  # filed under a lead (of any status) at some time


def stored_listings(session: Session,
                    listings: Sequence[Listing]) -> dict[tuple[str, str], StoredListing]:
    """The stored state of each of ``listings`` that has a row."""
    in_lead = (select(LeadListing.listing_id).where(LeadListing.listing_id == ListingRow.id)
               .exists())
    state: dict[tuple[str, str], StoredListing] = {}
    for platform, keys in by_platform(map(listing_key, listings)):
        for key, content_hash, version_id, filed in session.execute(
                select(ListingRow.platform_listing_id, ListingRow.content_hash,
                       ListingRow.current_version_id, in_lead)
                .where(ListingRow.platform == platform,
                       ListingRow.platform_listing_id.in_(keys))):
            state[(platform, key)] = StoredListing(
                content_hash if version_id is not None and content_hash else None,
                bool(filed))
    return state


def listings_in_leads(session: Session, listing_ids: Iterable[int]) -> set[int]:
    """Which of ``listing_ids`` are filed under a lead (of any status)."""
    ids = sorted(set(listing_ids))
    if not ids:
        return set()
    return set(session.scalars(select(LeadListing.listing_id)
                               .where(LeadListing.listing_id.in_(ids)).distinct()))


def version_row(*, listing_id: int, listing: Listing, content_hash: str,
                captured_at: datetime, run_id: int) -> dict[str, Any]:
    return {"listing_id": listing_id, "content_hash": content_hash, "title": listing.title,
            "description": listing.description, "price": listing.price,
            "seller_snapshot": asdict(listing.seller), "images": list(listing.images),
            "image_texts": list(listing.image_texts), "captured_at": captured_at,
            "run_id": run_id}


def insert_versions(session: Session, ids: Ids, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert version rows in one executemany; their ids, in the order of ``rows``."""
    version_ids = ids.take(ListingVersion, len(rows))
    if rows:
        insert_rows(session, ListingVersion, [
            {**row, "id": version_id} for row, version_id in zip(rows, version_ids, strict=True)])
    return version_ids


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


@dataclass(frozen=True, slots=True)
class EvidenceFiles:
    """The evidence files of one captured version: written (not yet synced) before the
    transaction that names them in rows."""

    files: tuple[tuple[EvidenceKind, str, int, str], ...]  # kind, SHA-256, size, type
    paths: tuple[Path, ...]


def write_evidence(files: EvidenceStore, *, capture: Capture, listing: Listing,
                   source: str) -> EvidenceFiles:
    """Write the raw HTML, the screenshot if there is one, and the capture record.

    The files are not synced: pass their paths to ``EvidenceStore.sync`` before rows
    naming them commit. Files come first, so a row never names a missing file; a file no
    row names (its transaction failed) is harmless, and storing it again is a no-op."""
    html_sha, html_path = files.put(capture.body, sync=False)
    paths = [html_path]
    shot_sha = None
    if capture.screenshot:
        shot_sha, shot_path = files.put(capture.screenshot, sync=False)
        paths.append(shot_path)
    record = capture_record(capture, listing, html_sha256=html_sha,
                            screenshot_sha256=shot_sha, source=source)
    record_sha, record_path = files.put(record, sync=False)
    paths.append(record_path)
    html_type = _header(capture.headers, "content-type") or "text/html"
    written: list[tuple[EvidenceKind, str, int, str]] = [
        (EvidenceKind.HTML, html_sha, len(capture.body), html_type[:KEY_LENGTH]),
        (EvidenceKind.CAPTURE_RECORD, record_sha, len(record), "application/json"),
    ]
    if capture.screenshot and shot_sha:
        written.append((EvidenceKind.SCREENSHOT, shot_sha, len(capture.screenshot),
                        _image_type(capture.screenshot)))
    return EvidenceFiles(tuple(written), tuple(paths))


def evidence_rows(files: EvidenceStore, *, version_id: int, capture: Capture,
                  written: EvidenceFiles) -> list[dict[str, Any]]:
    """The evidence rows of a version's files."""
    return [{"version_id": version_id, "kind": kind, "sha256": sha256, "size": size,
             "content_type": content_type, "url": capture.url,
             "final_url": capture.final_url, "http_status": capture.status,
             "fetched_at": capture.fetched_at, "tool": capture.tool,
             "path": files.relative_path(sha256)}
            for kind, sha256, size, content_type in written.files]


def finding_rows(version_id: int, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{"version_id": version_id, "rule": f.rule, "category": f.category,
             "field": f.field, "start": f.start, "end": f.end, "text": f.text,
             "severity": f.severity, "legal_basis": list(f.legal_basis),
             "evasions": list(f.evasions), "lexicon_version": f.lexicon_version,
             "detail": dict(f.detail)} for f in findings]


def insert_rows(session: Session, model: type[DeclarativeBase],
                rows: Sequence[dict[str, Any]]) -> None:
    """One executemany of a Core INSERT for many rows of ``model`` (every row with the
    same keys): no ORM objects, no ids fetched back."""
    if rows:
        session.execute(cast(Table, model.__table__).insert(), list(rows))


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


def lead_payload(*, lead: Lead, seller: SellerState, listing_row: ListingState,
                 listing: Listing,
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


def outbox_rows(*, lead_id: int, event: str, channels: Sequence[str],
                payload: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """One outbox row per channel; the idempotency key makes a second enqueue impossible."""
    return [{"lead_id": lead_id, "channel": channel,
             "idempotency_key": bounded_key(f"lead:{lead_id}:{event}:{channel}"),
             "payload": payload, "status": OutboxStatus.PENDING, "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for channel in dict.fromkeys(channels)]


def audit(session: Session, *, at: datetime, actor: str, action: str, object_type: str,
          object_id: int | str, detail: dict[str, Any]) -> None:
    session.add(AuditEvent(at=at, actor=actor[:KEY_LENGTH], action=action,
                           object_type=object_type, object_id=str(object_id), detail=detail))

