"""The store's service API: every other stage reads and writes the database through ``Store``.

Methods take keyword-only options, run one transaction each and return plain
dataclasses (:mod:`store.views`), never ORM objects.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jingwang.clock import utcnow
from jingwang.config import SourceConfig
from jingwang.records import Capture, CrawledListing, Finding, Listing
from store import ingest as steps
from store import leads as lead_steps
from store.alerting import Router, announce
from store.db import SQLITE_BEGIN, Ids
from store.enums import (
    CLOSED_LEAD_STATUSES,
    LEAD_TRANSITIONS,
    REASON_REQUIRED,
    EvidenceKind,
    FailureKind,
    LeadStatus,
    OutboxStatus,
    RunStatus,
)
from store.errors import IllegalTransition, NotFound
from store.evidence import EvidenceStore
from store.models import (
    AuditEvent,
    CrawlFailure,
    CrawlRun,
    Evidence,
    FindingRow,
    Lead,
    ListingVersion,
    Outbox,
    Seller,
    Source,
)
from store.models import Listing as ListingRow
from store.queries import evidence_view, lead_views
from store.views import EvidenceView, LeadView

__all__ = ["EvidenceFile", "IllegalTransition", "IngestResult", "NotFound", "OutboxMessage",
           "Store"]

T = TypeVar("T")

RUN_STAT_KEYS = ("pages", "listings", "new_versions", "findings", "errors", "parse_failures")
# A claimed outbox row is hidden from other dispatchers this long; if its sender dies
# without reporting, the row becomes due again.
CLAIM_LEASE = timedelta(minutes=5)
LEAD_CREATED = "created"


@dataclass(frozen=True, slots=True)
class IngestResult:
    listing_id: int
    version_id: int
    changed: bool
    new_listing: bool
    findings: int
    lead_id: int | None
    lead_created: bool
    categories: tuple[str, ...] = ()  # of the findings on a new version, for metrics
    detect_seconds: float = 0.0  # spent detecting this item's content


@dataclass(slots=True)
class _Pending:
    """One item of an ingest batch while it is being written."""

    item: CrawledListing
    seen: datetime
    content_hash: str
    findings: list[Finding] | None = None  # None: not detected (yet)
    detect_seconds: float = 0.0
    version: int | None = None  # id of the version this batch wrote for it
    lead_id: int | None = None
    lead_created: bool = False
    same_as: _Pending | None = None  # unchanged: the earlier item of the batch it repeats
    stored_version_id: int | None = None  # unchanged: the version stored before the batch
    evidence: steps.EvidenceFiles | None = None  # written for the version it will store

    def version_id(self) -> int:
        """The version this item's content is stored as."""
        if self.version is not None:
            return self.version
        if self.same_as is not None:
            return self.same_as.version_id()
        assert self.stored_version_id is not None
        return self.stored_version_id

    def detect(self, detect: Callable[[Listing], Sequence[Finding]]) -> None:
        started = time.perf_counter()
        self.findings = list(detect(self.item.listing))
        self.detect_seconds = time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One evidence row as ``jingwang evidence verify`` checks it."""

    id: int
    version_id: int
    kind: str
    sha256: str
    size: int
    path: str  # relative to the evidence root


@dataclass(frozen=True, slots=True)
class Referral:
    """Where a lead is handed (移送) when it moves to ``referred``; any combination.

    ``unit`` names an enforcement unit by id, role or name (the router resolves it);
    ``platform`` pushes the lead's platforms to clean its listings up (督促平台清理),
    which starts the takedown follow-up; ``police`` hands it on for 行刑衔接.
    """

    unit: str | None = None
    platform: bool = False
    police: bool = False
    note: str | None = None

    def __bool__(self) -> bool:
        return bool((self.unit or "").strip()) or self.platform or self.police


POLICE_TARGET = "公安机关"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A claimed alert; ``attempts`` counts this delivery attempt too (1 on the first)."""

    id: int
    channel: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int



def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value


class Store:
    """Database plus evidence files; the clock is injectable for tests."""

    def __init__(self, engine: Engine, evidence: EvidenceStore, *,
                 clock: Callable[[], datetime] = utcnow, router: Router | None = None) -> None:
        self.engine = engine
        self.evidence_store = evidence
        self._clock = clock
        # With a router, lead events go to the units its route tree picks (alerts/);
        # without one, a new lead is announced on the channels ``ingest`` is given.
        self.router = router
        # SQLite: writers take the write lock at BEGIN and queue on busy_timeout.
        self._writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        self._sync_pool: ThreadPoolExecutor | None = None

    # -- plumbing ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return _aware(self._clock(), "clock()")

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def _write_retrying(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a write transaction, once more if a concurrent writer won a
        unique constraint race (the retry then finds the row the other one inserted)."""
        try:
            with self._write() as session:
                return work(session)
        except IntegrityError:
            with self._write() as session:
                return work(session)

    # -- sources and runs -------------------------------------------------------------

    def sync_source(self, source: SourceConfig) -> int:
        """Insert or update the source row of a configured source; returns its id."""
        config = source.model_dump(mode="json")

        def work(session: Session) -> int:
            now = self._now()
            row = session.scalars(select(Source).where(Source.name == source.name)).one_or_none()
            if row is None:
                row = Source(name=source.name, platform=source.platform, kind=source.kind,
                             config=config, created_at=now, updated_at=now)
                session.add(row)
                session.flush()
            elif (row.platform, row.kind, row.config) != (source.platform, source.kind, config):
                row.platform, row.kind, row.config = source.platform, source.kind, config
                row.updated_at = now
            return row.id

        return self._write_retrying(work)

    def start_run(self, source_name: str) -> int:
        with self._write() as session:
            source_id = session.scalars(
                select(Source.id).where(Source.name == source_name)).one_or_none()
            if source_id is None:
                raise NotFound(f"unknown source {source_name!r} (call sync_source first)")
            run = CrawlRun(source_id=source_id, started_at=self._now(), status=RunStatus.RUNNING,
                           stats=dict.fromkeys(RUN_STAT_KEYS, 0))
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, int],
                   error: str | None = None) -> None:
        final = RunStatus(status)
        if final is RunStatus.RUNNING:
            raise ValueError("finish_run needs a final status, not 'running'")
        with self._write() as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise NotFound(f"unknown crawl run {run_id}")
            run.status = final
            run.finished_at = self._now()
            run.stats = dict.fromkeys(RUN_STAT_KEYS, 0) | {k: int(v) for k, v in stats.items()}
            run.error = error

    def record_failure(self, run_id: int, *, url: str, kind: str, problem: str) -> None:
        failure_kind = FailureKind(kind)
        with self._write() as session:
            if session.get(CrawlRun, run_id) is None:
                raise NotFound(f"unknown crawl run {run_id}")
            session.add(CrawlFailure(run_id=run_id, url=url, kind=failure_kind, problem=problem,
                                     at=self._now()))

    # -- ingest -----------------------------------------------------------------------

    def ingest(self, run_id: int, item: CrawledListing,
               detect: Callable[[Listing], Sequence[Finding]], *,
               channels: Sequence[str]) -> IngestResult:
        """Record one crawled listing in one transaction (see :meth:`ingest_many`)."""
        return self.ingest_many(run_id, [item], detect, channels=channels)[0]

    def ingest_many(self, run_id: int, items: Sequence[CrawledListing],
                    detect: Callable[[Listing], Sequence[Finding]], *,
                    channels: Sequence[str]) -> list[IngestResult]:
        """Record crawled listings in one transaction; one result per item, in order.

        Unchanged content only refreshes ``last_seen_at``; changed content gets a new
        version, findings from ``detect``, and — if there are findings — a place in the
        seller's open lead (or the lead of the same seller on another platform). A new
        lead is announced in the same transaction: to the units the router picks, or,
        without a router, once on each of ``channels``.

        Evidence files and rows (raw HTML, capture record, screenshot) are kept for a
        flagged version and for every later version of a listing once it was flagged —
        a clean later version shows what the seller changed. A listing never flagged
        keeps its text in the database only.

        Detection and evidence files are done before the write transaction, for the
        items whose content differs from what is stored, so the write lock is held only
        for writing. A batch is all or nothing: on an error nothing of it is stored
        (files no row names may remain; storing them again is a no-op).
        """
        batch: list[_Pending] = []
        for item in items:
            listing = item.listing
            if not listing.platform or not listing.listing_id:
                raise ValueError("a listing needs a platform and a listing_id to be stored")
            batch.append(_Pending(item, _aware(item.capture.fetched_at, "capture.fetched_at"),
                                  listing.content_hash()))
        if not batch:
            return []
        with self._read() as session:
            stored = steps.stored_listings(session, [p.item.listing for p in batch])
        written: list[Path] = []
        flagged: set[tuple[str, str]] = set()  # listings flagged by an earlier item
        for pending in batch:
            key = steps.listing_key(pending.item.listing)
            known = stored.get(key)
            if (known.content_hash if known else None) != pending.content_hash:
                pending.detect(detect)
                if pending.findings or (known and known.in_lead) or key in flagged:
                    written += self._write_evidence(pending)
            if pending.findings:
                flagged.add(key)
        # The files are made durable while the transaction runs, and before it commits.
        syncing = self._syncer().submit(self.evidence_store.sync, written) if written else None

        def work(session: Session) -> list[IngestResult]:
            results = self._ingest_batch(session, run_id, batch, detect, channels=channels)
            if syncing is not None:
                syncing.result()  # the files are durable before the rows naming them commit
            return results

        return self._write_retrying(work)

    def _syncer(self) -> ThreadPoolExecutor:
        """One thread that syncs evidence files (a sync waits for the disk, not the GIL)."""
        if self._sync_pool is None:
            self._sync_pool = ThreadPoolExecutor(max_workers=1,
                                                 thread_name_prefix="evidence-sync")
        return self._sync_pool

    def _ingest_batch(self, session: Session, run_id: int, batch: Sequence[_Pending],
                      detect: Callable[[Listing], Sequence[Finding]], *,
                      channels: Sequence[str]) -> list[IngestResult]:
        now = self._now()
        for pending in batch:  # a retried batch starts again
            pending.version, pending.lead_id, pending.lead_created = None, None, False
            pending.same_as, pending.stored_version_id = None, None
        listings = [p.item.listing for p in batch]
        new_sellers: set[int] = set()
        ids = Ids(session)
        sellers = steps.upsert_sellers(session, ids, listings, now=now, created=new_sellers)
        rows, new_keys = self._listing_rows(session, ids, batch, sellers)
        changed = self._versions(session, ids, run_id, batch, rows, sellers, detect)
        filing = lead_steps.Filing(ids=ids, new_sellers=new_sellers,
                                   new_listings={rows[key].id for key in new_keys})
        self._file_leads(session, run_id, changed, sellers, filing, channels, now)
        return self._results(session, batch, rows, new_keys)

    def _write_evidence(self, pending: _Pending) -> tuple[Path, ...]:
        """Write the evidence files of the version ``pending`` will store (not synced)."""
        pending.evidence = steps.write_evidence(
            self.evidence_store, capture=pending.item.capture, listing=pending.item.listing,
            source=pending.item.source)
        return pending.evidence.paths

    @staticmethod
    def _listing_rows(session: Session, ids: Ids, batch: Sequence[_Pending],
                      sellers: dict[tuple[str, str], steps.SellerState]
                      ) -> tuple[dict[tuple[str, str], steps.ListingState],
                                 set[tuple[str, str]]]:
        """The batch's listing rows by key, locked, the missing ones inserted (their keys
        are the second value)."""
        rows = steps.lock_listings(session, [p.item.listing for p in batch])
        missing: dict[tuple[str, str], _Pending] = {}
        for pending in batch:
            missing.setdefault(steps.listing_key(pending.item.listing), pending)
        for key in rows:
            del missing[key]
        for (key, pending), listing_id in zip(missing.items(),
                                              ids.take(ListingRow, len(missing)), strict=True):
            listing = pending.item.listing
            rows[key] = steps.ListingState(
                id=listing_id, platform=listing.platform, platform_listing_id=key[1],
                url=listing.url or pending.item.capture.url,
                seller_id=sellers[steps.seller_key(listing)].id, content_hash=None,
                current_version_id=None, first_seen_at=pending.seen,
                last_seen_at=pending.seen, removed_at=None)
        steps.insert_listings(session, (rows[key] for key in missing))
        return rows, set(missing)

    def _versions(self, session: Session, ids: Ids, run_id: int, batch: Sequence[_Pending],
                  rows: dict[tuple[str, str], steps.ListingState],
                  sellers: dict[tuple[str, str], steps.SellerState],
                  detect: Callable[[Listing], Sequence[Finding]]
                  ) -> list[tuple[_Pending, steps.ListingState]]:
        """Mark every listing seen; write a version, its evidence and findings for each
        item whose content is new. An item whose content is what its listing holds (also
        when an earlier item of this batch just stored it) is unchanged. Returns the
        changed items with their listing rows, in batch order."""
        changed: list[tuple[_Pending, steps.ListingState]] = []
        latest: dict[tuple[str, str], _Pending] = {}  # the item that wrote a key's version
        for pending in batch:
            listing = pending.item.listing
            key = steps.listing_key(listing)
            row = rows[key]
            row.last_seen_at = max(row.last_seen_at, pending.seen)
            row.removed_at = None
            row.seller_id = sellers[steps.seller_key(listing)].id
            row.url = listing.url or row.url
            if row.content_hash == pending.content_hash and (
                    row.current_version_id is not None or key in latest):
                pending.same_as = latest.get(key)
                pending.stored_version_id = row.current_version_id
                continue
            if pending.findings is None:  # stored content changed since the look ahead
                pending.detect(detect)
            row.content_hash = pending.content_hash
            latest[key] = pending
            changed.append((pending, row))
        version_ids = steps.insert_versions(session, ids, [
            steps.version_row(listing_id=row.id, listing=pending.item.listing,
                              content_hash=pending.content_hash, captured_at=pending.seen,
                              run_id=run_id) for pending, row in changed])
        edits = Counter(row.id for _, row in changed)
        in_leads = steps.listings_in_leads(
            session, (row.id for pending, row in changed
                      if pending.evidence is None and not pending.findings))
        flagged: set[int] = set()  # listings flagged by an earlier item of the batch
        written: list[Path] = []
        evidence: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        for (pending, row), version_id in zip(changed, version_ids, strict=True):
            pending.version = version_id
            if edits[row.id] == 1:  # else _file_leads moves it from version to version
                row.current_version_id = version_id
            if pending.evidence is None and (
                    pending.findings or row.id in in_leads or row.id in flagged):
                written += self._write_evidence(pending)  # the look ahead could not tell
            if pending.evidence is not None:
                evidence += steps.evidence_rows(self.evidence_store, version_id=version_id,
                                                capture=pending.item.capture,
                                                written=pending.evidence)
            if pending.findings:
                flagged.add(row.id)
            findings += steps.finding_rows(version_id, pending.findings or ())
        steps.insert_rows(session, Evidence, evidence)
        steps.insert_rows(session, FindingRow, findings)
        steps.update_listings(session, rows.values())
        self.evidence_store.sync(written)  # the files are durable before their rows commit
        return changed

    def _file_leads(self, session: Session, run_id: int,
                    changed: Sequence[tuple[_Pending, steps.ListingState]],
                    sellers: dict[tuple[str, str], steps.SellerState],
                    filing: lead_steps.Filing,
                    channels: Sequence[str], now: datetime) -> None:
        """File every flagged version under its seller's lead, then refresh each lead
        touched once, then announce the leads this batch opened (score and profile
        complete by then)."""
        touched: dict[int, Lead] = {}
        opened: list[tuple[Lead, steps.SellerState, steps.ListingState, _Pending]] = []
        edited_twice = {i for i, n in Counter(row.id for _, row in changed).items() if n > 1}
        flagged = [(pending, row) for pending, row in changed if pending.findings]
        if flagged:
            filing.prefetch(session, (sellers[steps.seller_key(p.item.listing)].id
                                      for p, _ in flagged), (row.id for _, row in flagged))
        with session.no_autoflush:  # filing writes its rows together, after the last
            for pending, row in changed:
                if row.id in edited_twice:
                    # Grouping compares with the text the listing has at this item.
                    row.current_version_id = pending.version_id()
                    steps.update_listings(session, [row], ["current_version_id"])
                if not pending.findings:
                    continue
                listing = pending.item.listing
                seller = sellers[steps.seller_key(listing)]
                lead, created = lead_steps.attach(session, filing, seller=seller,
                                                  listing_row=row, listing=listing, now=now)
                touched[lead.id] = lead
                pending.lead_id, pending.lead_created = lead.id, created
                if created:
                    opened.append((lead, seller, row, pending))
        if touched:
            filing.flush(session)  # what the refresh reads
            region = lead_steps.source_region(session, run_id)
            with session.no_autoflush:
                lead_steps.refresh(session, list(touched.values()), now=now, region=region)
            session.flush()
        outbox: list[dict[str, Any]] = []
        for lead, seller, row, pending in opened:
            self._announce_new_lead(session, lead, seller, row, pending, channels, now,
                                    outbox=outbox)
        steps.insert_rows(session, Outbox, outbox)
        session.flush()

    @staticmethod
    def _results(session: Session, batch: Sequence[_Pending],
                 rows: dict[tuple[str, str], steps.ListingState],
                 new_keys: set[tuple[str, str]]) -> list[IngestResult]:
        unflagged = [rows[steps.listing_key(p.item.listing)].id for p in batch
                     if p.lead_id is None]
        open_leads = steps.open_leads_of_listings(session, unflagged)
        results: list[IngestResult] = []
        reported: set[int] = set()
        for pending in batch:
            key = steps.listing_key(pending.item.listing)
            row = rows[key]
            fresh = pending.version is not None
            results.append(IngestResult(
                listing_id=row.id,
                version_id=pending.version_id(),
                changed=fresh,
                new_listing=fresh and key in new_keys and row.id not in reported,
                findings=len(pending.findings or ()) if fresh else 0,
                lead_id=pending.lead_id if pending.lead_id is not None
                else open_leads.get(row.id),
                lead_created=pending.lead_created,
                categories=tuple(f.category for f in pending.findings or ()) if fresh else (),
                detect_seconds=pending.detect_seconds if fresh else 0.0))
            reported.add(row.id)
        return results

    def _announce_new_lead(self, session: Session, lead: Lead, seller: steps.SellerState,
                           row: steps.ListingState, pending: _Pending, channels: Sequence[str],
                           now: datetime, *, outbox: list[dict[str, Any]]) -> None:
        """Announce a lead this ingest opened: to the units the router picks, or, without
        a router, once on each of ``channels`` (rows added to ``outbox``, for the caller
        to insert)."""
        payload = steps.lead_payload(lead=lead, seller=seller, listing_row=row,
                                     listing=pending.item.listing,
                                     findings=pending.findings or ())
        if self.router is None:
            outbox += steps.outbox_rows(lead_id=lead.id, event=LEAD_CREATED,
                                        channels=channels, payload=payload, now=now)
            return
        labels = lead_steps.labels(session, lead, LEAD_CREATED)
        payload["signals"] = list(labels.signals)
        routed = announce(session, self.router, labels, payload=payload, now=now)
        if routed:
            lead_steps.set_unit_if_unset(session, lead.id, routed.deliveries[0].unit_name, now)

    def mark_removed(self, *, platform: str, listing_id: str | None = None,
                     url: str | None = None, at: datetime) -> bool:
        """Mark the listing (by platform id or URL) as gone from the platform.

        Returns whether a listing matched; an already removed one keeps its first time.
        """
        if (listing_id is None) == (url is None):
            raise ValueError("pass exactly one of listing_id and url")
        at = _aware(at, "at")
        query = select(ListingRow).where(ListingRow.platform == platform)
        if listing_id is not None:
            query = query.where(
                ListingRow.platform_listing_id == steps.bounded_key(listing_id))
        else:
            query = query.where(ListingRow.url == url)
        with self._write() as session:
            rows = session.scalars(query.with_for_update()).all()
            for row in rows:
                if row.removed_at is None:
                    row.removed_at = at
            return bool(rows)

    # -- outbox -----------------------------------------------------------------------

    def claim_outbox(self, *, now: datetime, limit: int = 50) -> list[OutboxMessage]:
        """Pending messages that are due, oldest first, leased to the caller for a while.

        Each call counts one attempt per message; report the outcome with
        :meth:`mark_delivered` or :meth:`mark_failed`.
        """
        now = _aware(now, "now")
        with self._write() as session:
            rows = session.scalars(
                select(Outbox)
                .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True)).all()
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + CLAIM_LEASE
            return [OutboxMessage(id=row.id, channel=row.channel,
                                  idempotency_key=row.idempotency_key, payload=dict(row.payload),
                                  attempts=row.attempts) for row in rows]

    def _outbox_row(self, session: Session, outbox_id: int) -> Outbox:
        row = session.get(Outbox, outbox_id, with_for_update=True)
        if row is None:
            raise NotFound(f"unknown outbox message {outbox_id}")
        return row

    def mark_delivered(self, outbox_id: int, *, at: datetime) -> None:
        at = _aware(at, "at")
        with self._write() as session:
            row = self._outbox_row(session, outbox_id)
            row.status = OutboxStatus.SENT
            row.sent_at = row.sent_at or at

    def mark_failed(self, outbox_id: int, *, error: str,
                    retry_at: datetime | None) -> None:
        """Record a failed attempt: retry at ``retry_at``, or give up when it is None."""
        if retry_at is not None:
            retry_at = _aware(retry_at, "retry_at")
        with self._write() as session:
            row = self._outbox_row(session, outbox_id)
            if row.status is OutboxStatus.SENT:
                return  # a late report from an expired lease; the message did go out
            row.last_error = error
            if retry_at is None:
                row.status = OutboxStatus.FAILED
            else:
                row.status = OutboxStatus.PENDING
                row.next_attempt_at = retry_at

    # -- leads and review -------------------------------------------------------------

    def recent_leads(self, *, limit: int = 50, offset: int = 0) -> list[LeadView]:
        """Leads newest first."""
        with self._read() as session:
            leads = session.scalars(
                select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc())
                .limit(limit).offset(offset)).all()
            return lead_views(session, leads)

    def lead(self, lead_id: int) -> LeadView | None:
        with self._read() as session:
            lead = session.get(Lead, lead_id)
            return lead_views(session, [lead])[0] if lead is not None else None

    def evidence(self, sha256: str) -> EvidenceView | None:
        """Metadata of the first evidence row with these bytes (None if unknown)."""
        with self._read() as session:
            row = session.scalars(
                select(Evidence).where(Evidence.sha256 == sha256.lower())
                .order_by(Evidence.id).limit(1)).first()
            return evidence_view(row) if row is not None else None

    def transition_lead(self, lead_id: int, to: LeadStatus, *, actor: str,
                        reason: str | None = None, referral: Referral | None = None) -> None:
        """Move a lead to ``to``; the only way a lead's status changes.

        Raises IllegalTransition for moves the life cycle forbids and for dismissing or
        closing without a reason (the dismissal reason, or the resolution); writes an
        audit event. Moving to ``referred`` with a ``referral`` records where it went
        (``lead_referral`` rows) and alerts the unit; a lead already referred may be
        referred again (to another target) by passing ``to=referred`` with a referral.
        Confirmations and referrals are announced in the same transaction.
        """
        target = LeadStatus(to)
        with self._write() as session:
            lead = session.get(Lead, lead_id, with_for_update=True)
            if lead is None:
                raise NotFound(f"unknown lead {lead_id}")
            source = lead.status
            again = (source is LeadStatus.REFERRED and target is LeadStatus.REFERRED
                     and bool(referral))
            if target not in LEAD_TRANSITIONS[source] and not again:
                raise IllegalTransition(lead_id, source, target, "not an allowed move")
            if referral and target is not LeadStatus.REFERRED:
                raise IllegalTransition(lead_id, source, target,
                                        "only a move to referred takes a referral")
            reason = (reason or "").strip() or None
            if target in REASON_REQUIRED and reason is None:
                raise IllegalTransition(lead_id, source, target, "a reason is required")
            now = self._now()
            if not again:
                lead.status = target
                setattr(lead, f"{target.value}_at", now)
                lead.updated_at = now
                if target is LeadStatus.DISMISSED:
                    lead.dismiss_reason = reason
                elif target is LeadStatus.CLOSED:
                    lead.resolution = reason
                steps.audit(session, at=now, actor=actor, action="lead.transition",
                            object_type="lead", object_id=lead_id,
                            detail={"from": source.value, "to": target.value,
                                    "reason": reason})
            if referral:
                self._refer(session, lead, referral, actor=actor, now=now)
            elif target is LeadStatus.CONFIRMED:
                payload = lead_steps.summary_payload(session, lead)
                announce(session, self.router, lead_steps.labels(session, lead, "confirmed"),
                         payload=payload, now=now)

    def _refer(self, session: Session, lead: Lead, referral: Referral, *, actor: str,
               now: datetime) -> None:
        """Record each target of a referral and alert it; a target a lead was already
        referred to is alerted once only (the outbox key names event and unit)."""
        from store.models_review import LeadReferral, ReferralKind

        note = (referral.note or "").strip() or None
        payload = lead_steps.summary_payload(session, lead)
        targets: list[tuple[ReferralKind, str]] = []
        unit = (referral.unit or "").strip()
        if unit:
            name = self.router.unit_name(unit) if self.router is not None else None
            targets.append((ReferralKind.UNIT, (name or unit)[:255]))
            labels = lead_steps.labels(session, lead, "referred", referral="unit")
            body = {**payload, "referral": "unit", "note": note}
            routed = announce(session, self.router, labels, payload=body, now=now,
                              event_key="referred-unit", unit=unit)
            if self.router is not None and not routed and name is None:
                # A unit the configuration does not know: the route tree decides.
                announce(session, self.router, labels, payload=body, now=now,
                         event_key="referred-unit")
            lead_steps.set_unit_if_unset(session, lead.id, name or unit, now)
        if referral.platform:
            platforms = lead_steps.labels(session, lead, "referred").platforms
            targets.extend((ReferralKind.PLATFORM, p) for p in platforms)
            announce(session, self.router,
                     lead_steps.labels(session, lead, "referred", referral="platform"),
                     payload={**payload, "referral": "platform", "note": note}, now=now,
                     event_key="referred-platform")
        if referral.police:
            targets.append((ReferralKind.POLICE, POLICE_TARGET))
            announce(session, self.router,
                     lead_steps.labels(session, lead, "referred", referral="police"),
                     payload={**payload, "referral": "police", "note": note}, now=now,
                     event_key="referred-police")
        for kind, target in targets:
            session.add(LeadReferral(lead_id=lead.id, kind=kind, target=target, note=note,
                                     actor=actor[:255], at=now))
            steps.audit(session, at=now, actor=actor, action="lead.refer", object_type="lead",
                        object_id=lead.id, detail={"kind": kind.value, "target": target,
                                                   "note": note})

    def audit_events(self, *, object_type: str, object_id: int | str) -> list[dict[str, Any]]:
        """Audit trail of one object, oldest first (at, actor, action, detail)."""
        with self._read() as session:
            rows = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == object_type,
                       AuditEvent.object_id == str(object_id))
                .order_by(AuditEvent.at, AuditEvent.id)).all()
            return [{"at": row.at, "actor": row.actor, "action": row.action,
                     "detail": dict(row.detail)} for row in rows]

    def counts(self) -> dict[str, int]:
        """Row counts for tests and health checks."""
        def count(session: Session, model: type[Any], *where: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where))
                       or 0)

        with self._read() as session:
            return {
                "sources": count(session, Source),
                "runs": count(session, CrawlRun),
                "failures": count(session, CrawlFailure),
                "sellers": count(session, Seller),
                "listings": count(session, ListingRow),
                "versions": count(session, ListingVersion),
                "evidence": count(session, Evidence),
                "findings": count(session, FindingRow),
                "leads": count(session, Lead),
                "leads_open": count(session, Lead, Lead.status.not_in(CLOSED_LEAD_STATUSES)),
                "audit_events": count(session, AuditEvent),
                "outbox_pending": count(session, Outbox, Outbox.status == OutboxStatus.PENDING),
                "outbox_sent": count(session, Outbox, Outbox.status == OutboxStatus.SENT),
                "outbox_failed": count(session, Outbox, Outbox.status == OutboxStatus.FAILED),
            }

    # -- crawler support: screenshots, evidence checks, blocked sources ---------------

    def attach_screenshot(self, version_id: int, capture: Capture) -> str:
        """Store ``capture.screenshot`` as evidence of a version, with a capture record of its own.

        The record names the screenshot and the version's HTML by SHA-256. Returns the
        screenshot's SHA-256; attaching the same bytes to the same version again is a no-op.
        """
        png = capture.screenshot
        if not png:
            raise ValueError("the capture has no screenshot")
        fetched_at = _aware(capture.fetched_at, "capture.fetched_at")
        shot_sha, _ = self.evidence_store.put(png)
        with self._write() as session:
            if session.get(ListingVersion, version_id) is None:
                raise NotFound(f"unknown listing version {version_id}")
            same = session.scalars(select(Evidence.id).where(
                Evidence.version_id == version_id, Evidence.kind == EvidenceKind.SCREENSHOT,
                Evidence.sha256 == shot_sha)).first()
            if same is not None:
                return shot_sha
            html_sha = session.scalars(select(Evidence.sha256).where(
                Evidence.version_id == version_id, Evidence.kind == EvidenceKind.HTML)
                .order_by(Evidence.id)).first()
            record = json.dumps({
                "url": capture.url, "final_url": capture.final_url, "status": capture.status,
                "headers": dict(capture.headers), "fetched_at": fetched_at.isoformat(),
                "tool": capture.tool, "screenshot_sha256": shot_sha, "screenshot_size": len(png),
                "html_sha256": html_sha, "version_id": version_id,
            }, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")
            record_sha, _ = self.evidence_store.put(record)
            for kind, sha256, size, content_type in (
                    (EvidenceKind.SCREENSHOT, shot_sha, len(png), "image/png"),
                    (EvidenceKind.CAPTURE_RECORD, record_sha, len(record), "application/json")):
                session.add(Evidence(
                    version_id=version_id, kind=kind, sha256=sha256, size=size,
                    content_type=content_type, url=capture.url, final_url=capture.final_url,
                    http_status=capture.status, fetched_at=fetched_at, tool=capture.tool,
                    path=self.evidence_store.relative_path(sha256)))
        return shot_sha

    def evidence_files(self) -> list[EvidenceFile]:
        """Every evidence row, oldest first (what ``jingwang evidence verify`` re-hashes)."""
        with self._read() as session:
            rows = session.scalars(select(Evidence).order_by(Evidence.id)).all()
            return [EvidenceFile(id=row.id, version_id=row.version_id, kind=row.kind.value,
                                 sha256=row.sha256, size=row.size, path=row.path)
                    for row in rows]

    def block_streak(self, source_name: str) -> tuple[int, datetime | None]:
        """How many of the source's latest finished runs in a row were blocked, and when
        the latest of them finished (``stats["blocked"]`` counts a run's blocked pages)."""
        with self._read() as session:
            rows = session.execute(
                select(CrawlRun.stats, CrawlRun.finished_at)
                .join(Source, Source.id == CrawlRun.source_id)
                .where(Source.name == source_name, CrawlRun.finished_at.is_not(None))
                .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(50)).all()
        streak, last = 0, None
        for stats, finished_at in rows:
            if int((stats or {}).get("blocked", 0) or 0) <= 0:
                break
            streak += 1
            last = last or finished_at
        return streak, last

    def enqueue_notice(self, *, key: str, payload: dict[str, Any],
                       channels: Sequence[str]) -> int:
        """Queue an operator notice that is not about a lead (e.g. a blocked source), once per
        channel; ``key`` makes queueing it again a no-op. Returns how many rows were added."""
        added = 0
        with self._write() as session:
            now = self._now()
            for channel in dict.fromkeys(channels):
                idempotency_key = steps.bounded_key(f"{key}:{channel}")
                exists = session.scalars(select(Outbox.id).where(
                    Outbox.idempotency_key == idempotency_key)).first()
                if exists is not None:
                    continue
                session.add(Outbox(lead_id=None, channel=channel, idempotency_key=idempotency_key,
                                   payload=payload, status=OutboxStatus.PENDING, attempts=0,
                                   next_attempt_at=now, created_at=now))
                added += 1
        return added
