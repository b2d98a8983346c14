"""Read queries that turn rows into the view records of :mod:`store.views`, in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Evidence, FindingRow, Lead, LeadListing, ListingVersion, Seller
from store.models import Listing as ListingRow
from store.views import EvidenceView, FindingView, LeadView, ListingView


def evidence_view(row: Evidence) -> EvidenceView:
    return EvidenceView(kind=row.kind, sha256=row.sha256, size=row.size,
                        content_type=row.content_type, url=row.url, final_url=row.final_url,
                        http_status=row.http_status, fetched_at=row.fetched_at, tool=row.tool,
                        version_id=row.version_id)


def _finding_view(row: FindingRow) -> FindingView:
    return FindingView(rule=row.rule, category=row.category, field=row.field, start=row.start,
                       end=row.end, text=row.text, severity=row.severity,
                       evasions=tuple(row.evasions), legal_basis=tuple(row.legal_basis),
                       lexicon_version=row.lexicon_version)


def _shown_versions(session: Session, listings: Sequence[ListingRow]) -> dict[int, int]:
    """listing id → the version a lead shows: newest with findings, else the current one."""
    ids = [row.id for row in listings]
    shown = {row.id: row.current_version_id for row in listings
             if row.current_version_id is not None}
    if not ids:
        return {}
    flagged = session.execute(
        select(ListingVersion.listing_id, func.max(ListingVersion.id))
        .join(FindingRow, FindingRow.version_id == ListingVersion.id)
        .where(ListingVersion.listing_id.in_(ids))
        .group_by(ListingVersion.listing_id)).all()
    for listing_id, version_id in flagged:
        shown[listing_id] = version_id
    return shown


def listing_views(session: Session, listings: Sequence[ListingRow]) -> dict[int, ListingView]:
    shown = _shown_versions(session, listings)
    version_ids = list(set(shown.values()))
    versions = {v.id: v for v in session.scalars(
        select(ListingVersion).where(ListingVersion.id.in_(version_ids)))}
    findings: dict[int, list[FindingView]] = defaultdict(list)
    for finding in session.scalars(
            select(FindingRow).where(FindingRow.version_id.in_(version_ids))
            .order_by(FindingRow.version_id, FindingRow.field, FindingRow.start, FindingRow.id)):
        findings[finding.version_id].append(_finding_view(finding))
    evidence: dict[int, list[EvidenceView]] = defaultdict(list)
    for item in session.scalars(
            select(Evidence).where(Evidence.version_id.in_(version_ids)).order_by(Evidence.id)):
        evidence[item.version_id].append(evidence_view(item))
    views: dict[int, ListingView] = {}
    for row in listings:
        version_id = shown.get(row.id)
        version = versions.get(version_id) if version_id is not None else None
        views[row.id] = ListingView(
            id=row.id, platform=row.platform, listing_id=row.platform_listing_id, url=row.url,
            title=version.title if version else "",
            description=version.description if version else "",
            price=version.price if version else None,
            version_id=version_id, captured_at=version.captured_at if version else None,
            is_current=version_id is not None and version_id == row.current_version_id,
            first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at,
            removed_at=row.removed_at,
            findings=tuple(findings.get(version_id, ())) if version_id is not None else (),
            evidence=tuple(evidence.get(version_id, ())) if version_id is not None else ())
    return views


def lead_views(session: Session, leads: Sequence[Lead]) -> list[LeadView]:
    """Views of ``leads`` in the given order, with a fixed number of queries."""
    if not leads:
        return []
    lead_ids = [lead.id for lead in leads]
    sellers = {s.id: s for s in session.scalars(
        select(Seller).where(Seller.id.in_({lead.seller_id for lead in leads})))}
    links = session.execute(
        select(LeadListing.lead_id, LeadListing.listing_id)
        .where(LeadListing.lead_id.in_(lead_ids))
        .order_by(LeadListing.added_at, LeadListing.listing_id)).all()
    listing_rows = list(session.scalars(
        select(ListingRow).where(ListingRow.id.in_({listing_id for _, listing_id in links}))))
    listings = listing_views(session, listing_rows)
    by_lead: dict[int, list[ListingView]] = defaultdict(list)
    for lead_id, listing_id in links:
        by_lead[lead_id].append(listings[listing_id])
    views = []
    for lead in leads:
        seller = sellers[lead.seller_id]
        views.append(LeadView(
            id=lead.id, status=lead.status, new_at=lead.new_at, in_review_at=lead.in_review_at,
            confirmed_at=lead.confirmed_at, dismissed_at=lead.dismissed_at,
            referred_at=lead.referred_at, closed_at=lead.closed_at,
            created_at=lead.created_at, updated_at=lead.updated_at, seller_id=seller.id,
            platform=seller.platform, shop_id=seller.shop_id, shop_name=seller.name,
            shop_url=seller.shop_url, credit_code=seller.credit_code,
            license_text=seller.license_text, categories=tuple(lead.categories),
            score=lead.score, dismiss_reason=lead.dismiss_reason, resolution=lead.resolution,
            listings=tuple(by_lead.get(lead.id, ()))))
    return views
