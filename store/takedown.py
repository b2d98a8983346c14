"""Takedown follow-up (跟踪问效): listings of leads referred to their platform are checked
until they are gone; one still online after the grace period is escalated to the unit.

A lead is "referred to its platform" when it is in ``referred`` with a ``lead_referral``
row of kind ``platform`` — whoever wrote it (``Store.transition_lead`` or the
workbench). The figures feed the statistics (``Listing.removed_at``, ``stats``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jingwang.clock import utcnow
from store import leads as lead_steps
from store.alerting import Router, announce
from store.db import Transactions
from store.enums import LeadStatus
from store.models import Lead, LeadListing, ListingVersion
from store.models import Listing as ListingRow
from store.models_alerts import Takedown
from store.models_review import LeadReferral, ReferralKind

TAKEDOWN_EVENT = "takedown_overdue"
RESULTS = ("online", "removed", "error", "blocked")


@dataclass(frozen=True, slots=True)
class TakedownTarget:
    lead_id: int
    listing_id: int
    platform: str
    platform_listing_id: str
    url: str | None
    referred_at: datetime
    checks: int


@dataclass(frozen=True, slots=True)
class TakedownRow:
    lead_id: int
    listing_id: int
    platform: str
    platform_listing_id: str
    url: str | None
    referred_at: datetime
    last_checked_at: datetime | None
    checks: int
    last_result: str | None
    removed_at: datetime | None
    escalated_at: datetime | None


@dataclass(frozen=True, slots=True)
class TakedownStats:
    """Listings referred for cleanup: removed, still online, escalated, time to removal."""

    referred: int
    removed: int
    pending: int
    escalated: int
    median_hours_to_removal: float | None


class Takedowns(Transactions):
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow,
                 router: Router | None = None) -> None:
        super().__init__(engine, clock=clock)
        self.router = router

    def sync(self) -> int:
        """Start following every listing of leads referred to their platform; returns how
        many listings were added. Removals the crawler noticed meanwhile are copied."""
        now = self.clock()
        with self._write() as session:
            referred = session.execute(
                select(LeadReferral.lead_id, func.min(LeadReferral.at))
                .join(Lead, Lead.id == LeadReferral.lead_id)
                .where(LeadReferral.kind == ReferralKind.PLATFORM,
                       Lead.status == LeadStatus.REFERRED)
                .group_by(LeadReferral.lead_id)).all()
            added = 0
            for lead_id, at in referred:
                known = set(session.scalars(select(Takedown.listing_id).where(
                    Takedown.lead_id == lead_id)))
                for listing in session.scalars(
                        select(ListingRow).join(LeadListing, LeadListing.listing_id ==
                                                ListingRow.id)
                        .where(LeadListing.lead_id == lead_id)):
                    if listing.id in known:
                        continue
                    session.add(Takedown(
                        lead_id=lead_id, listing_id=listing.id, platform=listing.platform,
                        referred_at=at, next_check_at=now, checks=0, last_result=None,
                        removed_at=listing.removed_at, escalated_at=None,
                        last_checked_at=None))
                    added += 1
            _copy_removals(session)
            return added

    def due(self, *, limit: int = 200) -> list[TakedownTarget]:
        """Listings to check now: not known removed, of leads still referred."""
        now = self.clock()
        with self._read() as session:
            rows = session.execute(
                select(Takedown, ListingRow.platform_listing_id, ListingRow.url)
                .join(ListingRow, ListingRow.id == Takedown.listing_id)
                .join(Lead, Lead.id == Takedown.lead_id)
                .where(Takedown.removed_at.is_(None), Takedown.next_check_at <= now,
                       Lead.status == LeadStatus.REFERRED)
                .order_by(Takedown.next_check_at, Takedown.lead_id, Takedown.listing_id)
                .limit(limit)).all()
            return [TakedownTarget(lead_id=t.lead_id, listing_id=t.listing_id,
                                   platform=t.platform, platform_listing_id=pid, url=url,
                                   referred_at=t.referred_at, checks=t.checks)
                    for t, pid, url in rows]

    def record(self, target: TakedownTarget, *, result: str, at: datetime,
               next_check_at: datetime) -> None:
        """The outcome of one check; ``removed`` records the time it was found gone."""
        if result not in RESULTS:
            raise ValueError(f"unknown check result {result!r}")
        with self._write() as session:
            row = session.get(Takedown, (target.lead_id, target.listing_id),
                              with_for_update=True)
            if row is None:
                return
            row.checks += 1
            row.last_checked_at = at
            row.last_result = result
            row.next_check_at = next_check_at
            if result == "removed" and row.removed_at is None:
                listing = session.get(ListingRow, row.listing_id)
                row.removed_at = (listing.removed_at if listing and listing.removed_at
                                  else at)

    def escalate(self, *, escalate_after: timedelta) -> int:
        """Alert the unit about listings still not removed ``escalate_after`` after the
        referral, once per listing; returns how many listings were escalated."""
        now = self.clock()
        with self._write() as session:
            _copy_removals(session)
            rows = session.execute(
                select(Takedown, ListingRow)
                .join(ListingRow, ListingRow.id == Takedown.listing_id)
                .join(Lead, Lead.id == Takedown.lead_id)
                .where(Takedown.removed_at.is_(None), Takedown.escalated_at.is_(None),
                       Takedown.referred_at <= now - escalate_after,
                       Lead.status == LeadStatus.REFERRED)
                .order_by(Takedown.lead_id, Takedown.listing_id)).all()
            by_lead: dict[int, list[tuple[Takedown, ListingRow]]] = defaultdict(list)
            for takedown, listing in rows:
                by_lead[takedown.lead_id].append((takedown, listing))
            for lead_id, items in by_lead.items():
                lead = session.get(Lead, lead_id)
                assert lead is not None
                self._announce(session, lead, items, escalate_after, now)
                for takedown, _ in items:
                    takedown.escalated_at = now
            return len(rows)

    def _announce(self, session: Session, lead: Lead, items: list[tuple[Takedown, ListingRow]],
                  escalate_after: timedelta, now: datetime) -> None:
        payload = lead_steps.summary_payload(session, lead)
        payload["days"] = round(escalate_after.total_seconds() / 86400, 1)
        payload["overdue"] = [
            {"listing_id": listing.platform_listing_id, "url": listing.url,
             "title": _title(session, listing), "result": takedown.last_result,
             "referred_at": takedown.referred_at.isoformat()}
            for takedown, listing in items]
        listings = "-".join(str(listing.id) for _, listing in items)
        labels = lead_steps.labels(session, lead, TAKEDOWN_EVENT)
        unit = session.scalar(
            select(LeadReferral.target).where(LeadReferral.lead_id == lead.id,
                                              LeadReferral.kind == ReferralKind.UNIT)
            .order_by(LeadReferral.at.desc(), LeadReferral.id.desc()).limit(1))
        key = f"{TAKEDOWN_EVENT}-{listings}"
        routed = None
        if unit is not None:
            routed = announce(session, self.router, labels, payload=payload, now=now,
                              event_key=key, unit=unit)
        if not routed:
            announce(session, self.router, labels, payload=payload, now=now, event_key=key)

    def rows(self, *, lead_id: int | None = None, limit: int = 100) -> list[TakedownRow]:
        query = (select(Takedown, ListingRow.platform_listing_id, ListingRow.url)
                 .join(ListingRow, ListingRow.id == Takedown.listing_id))
        if lead_id is not None:
            query = query.where(Takedown.lead_id == lead_id)
        with self._read() as session:
            return [TakedownRow(
                lead_id=t.lead_id, listing_id=t.listing_id, platform=t.platform,
                platform_listing_id=pid, url=url, referred_at=t.referred_at,
                last_checked_at=t.last_checked_at, checks=t.checks, last_result=t.last_result,
                removed_at=t.removed_at, escalated_at=t.escalated_at)
                for t, pid, url in session.execute(
                    query.order_by(Takedown.referred_at.desc(), Takedown.lead_id,
                                   Takedown.listing_id).limit(limit))]

    def stats(self, *, since: datetime | None = None) -> TakedownStats:
        """Figures over listings referred since ``since`` (all when None)."""
        query = select(Takedown)
        if since is not None:
            query = query.where(Takedown.referred_at >= since)
        with self._read() as session:
            rows = list(session.scalars(query))
        removed = [r for r in rows if r.removed_at is not None]
        hours = [max(0.0, (r.removed_at - r.referred_at).total_seconds() / 3600)
                 for r in removed if r.removed_at is not None]
        return TakedownStats(
            referred=len(rows), removed=len(removed), pending=len(rows) - len(removed),
            escalated=sum(1 for r in rows if r.escalated_at is not None and r.removed_at is None),
            median_hours_to_removal=round(statistics.median(hours), 1) if hours else None)


def _copy_removals(session: Session) -> None:
    for takedown, removed_at in session.execute(
            select(Takedown, ListingRow.removed_at)
            .join(ListingRow, ListingRow.id == Takedown.listing_id)
            .where(Takedown.removed_at.is_(None), ListingRow.removed_at.is_not(None))):
        takedown.removed_at = removed_at
        takedown.last_result = "removed"


def _title(session: Session, listing: ListingRow) -> str:
    if listing.current_version_id is None:
        return ""
    version = session.get(ListingVersion, listing.current_version_id)
    return version.title if version else ""
