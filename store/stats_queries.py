"""Raw facts for the campaign's figures over a period: listings seen, leads and their
status times, referrals, and flagged listings that disappeared from their platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from store.enums import LeadStatus
from store.models import Lead, LeadListing, Seller
from store.models import Listing as ListingRow
from store.models_review import LeadReferral, LeadReview, ReferralKind


@dataclass(frozen=True, slots=True)
class LeadFact:
    id: int
    platform: str
    categories: tuple[str, ...]
    status: LeadStatus
    created_at: datetime
    confirmed_at: datetime | None
    dismissed_at: datetime | None
    referred_at: datetime | None
    closed_at: datetime | None
    unit: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class ReferralFact:
    lead_id: int
    platform: str
    kind: ReferralKind
    target: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """Everything the statistics page counts, for leads and events in [start, end)."""

    start: datetime
    end: datetime
    listings_by_platform: dict[str, int]
    leads: tuple[LeadFact, ...]  # created before ``end``; each figure filters by its own time
    referrals: tuple[ReferralFact, ...]  # made in the period
    removed_by_platform: dict[str, int]  # flagged listings gone from the platform in the period


def campaign_facts(engine: Engine, *, start: datetime, end: datetime) -> CampaignFacts:
    with Session(engine) as session, session.begin():
        listings = dict(session.execute(
            select(ListingRow.platform, func.count())
            .where(ListingRow.first_seen_at < end, ListingRow.last_seen_at >= start)
            .group_by(ListingRow.platform)).all())
        leads = tuple(
            LeadFact(id=lead.id, platform=platform, categories=tuple(lead.categories),
                     status=LeadStatus(lead.status), created_at=lead.created_at,
                     confirmed_at=lead.confirmed_at, dismissed_at=lead.dismissed_at,
                     referred_at=lead.referred_at, closed_at=lead.closed_at,
                     unit=unit, outcome=outcome)
            for lead, platform, unit, outcome in session.execute(
                select(Lead, Seller.platform, LeadReview.unit, LeadReview.outcome)
                .join(Seller, Seller.id == Lead.seller_id)
                .outerjoin(LeadReview, LeadReview.lead_id == Lead.id)
                .where(Lead.created_at < end).order_by(Lead.id)))
        referrals = tuple(
            ReferralFact(lead_id=ref.lead_id, platform=platform, kind=ReferralKind(ref.kind),
                         target=ref.target, at=ref.at)
            for ref, platform in session.execute(
                select(LeadReferral, Seller.platform)
                .join(Lead, Lead.id == LeadReferral.lead_id)
                .join(Seller, Seller.id == Lead.seller_id)
                .where(LeadReferral.at >= start, LeadReferral.at < end)
                .order_by(LeadReferral.at, LeadReferral.id)))
        flagged = (select(LeadListing.listing_id)
                   .join(Lead, Lead.id == LeadListing.lead_id)
                   .where(Lead.status != LeadStatus.DISMISSED))
        removed = dict(session.execute(
            select(ListingRow.platform, func.count())
            .where(ListingRow.id.in_(flagged), ListingRow.removed_at >= start,
                   ListingRow.removed_at < end)
            .group_by(ListingRow.platform)).all())
    return CampaignFacts(start=start, end=end,
                         listings_by_platform={k: int(v) for k, v in listings.items()},
                         leads=leads, referrals=referrals,
                         removed_by_platform={k: int(v) for k, v in removed.items()})
