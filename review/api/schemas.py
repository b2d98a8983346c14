"""Pydantic shapes of the REST API (what /openapi.json documents)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from store.review_queries import QueueRow, VersionView
from store.views import EvidenceView, FindingView, LeadView, ListingView
from store.workbench import ReviewState


class FindingOut(BaseModel):
    rule: str
    category: str
    field: str
    start: int
    end: int
    text: str
    severity: str
    evasions: list[str]
    legal_basis: list[str]
    lexicon_version: str

    @classmethod
    def of(cls, f: FindingView) -> FindingOut:
        return cls(rule=f.rule, category=f.category, field=f.field, start=f.start, end=f.end,
                   text=f.text, severity=f.severity, evasions=list(f.evasions),
                   legal_basis=list(f.legal_basis), lexicon_version=f.lexicon_version)


class EvidenceOut(BaseModel):
    kind: str
    sha256: str
    size: int
    content_type: str
    url: str
    fetched_at: datetime
    tool: str

    @classmethod
    def of(cls, e: EvidenceView) -> EvidenceOut:
        return cls(kind=str(e.kind), sha256=e.sha256, size=e.size, content_type=e.content_type,
                   url=e.url, fetched_at=e.fetched_at, tool=e.tool)


class ListingOut(BaseModel):
    id: int
    platform: str
    listing_id: str
    url: str | None
    title: str
    description: str
    price: str | None
    version_id: int | None
    captured_at: datetime | None
    removed_at: datetime | None
    findings: list[FindingOut]
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, item: ListingView) -> ListingOut:
        return cls(id=item.id, platform=item.platform, listing_id=item.listing_id,
                   url=item.url, title=item.title, description=item.description,
                   price=item.price, version_id=item.version_id, captured_at=item.captured_at,
                   removed_at=item.removed_at,
                   findings=[FindingOut.of(f) for f in item.findings],
                   evidence=[EvidenceOut.of(e) for e in item.evidence])


class LeadSummaryOut(BaseModel):
    id: int
    status: str
    platform: str
    shop_name: str
    credit_code: str | None
    categories: list[str]
    score: float
    created_at: datetime
    updated_at: datetime
    listing_count: int
    title: str
    assignee: str | None
    unit: str | None
    escalated: bool

    @classmethod
    def of(cls, row: QueueRow) -> LeadSummaryOut:
        return cls(id=row.id, status=row.status.value, platform=row.platform,
                   shop_name=row.shop_name, credit_code=row.credit_code,
                   categories=list(row.categories), score=row.score,
                   created_at=row.created_at, updated_at=row.updated_at,
                   listing_count=row.listing_count, title=row.title, assignee=row.assignee,
                   unit=row.unit, escalated=row.escalated)


class LeadPageOut(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[LeadSummaryOut]


class ReferralOut(BaseModel):
    kind: str
    target: str
    note: str | None
    actor: str
    at: datetime


class LeadOut(BaseModel):
    id: int
    status: str
    platform: str
    shop_name: str
    shop_url: str | None
    credit_code: str | None
    license_text: str | None
    categories: list[str]
    score: float
    created_at: datetime
    confirmed_at: datetime | None
    dismissed_at: datetime | None
    referred_at: datetime | None
    closed_at: datetime | None
    dismiss_reason: str | None
    resolution: str | None
    assignee: str | None
    unit: str | None
    escalated_at: datetime | None
    referrals: list[ReferralOut]
    listings: list[ListingOut]

    @classmethod
    def of(cls, lead: LeadView, state: ReviewState) -> LeadOut:
        return cls(
            id=lead.id, status=lead.status.value, platform=lead.platform,
            shop_name=lead.shop_name, shop_url=lead.shop_url, credit_code=lead.credit_code,
            license_text=lead.license_text, categories=list(lead.categories), score=lead.score,
            created_at=lead.created_at, confirmed_at=lead.confirmed_at,
            dismissed_at=lead.dismissed_at, referred_at=lead.referred_at,
            closed_at=lead.closed_at, dismiss_reason=lead.dismiss_reason,
            resolution=lead.resolution, assignee=state.assignee, unit=state.unit,
            escalated_at=state.escalated_at,
            referrals=[ReferralOut(kind=r.kind.value, target=r.target, note=r.note,
                                   actor=r.actor, at=r.at) for r in state.referrals],
            listings=[ListingOut.of(item) for item in lead.listings])


class VersionOut(BaseModel):
    id: int
    captured_at: datetime
    content_hash: str
    title: str
    description: str
    price: str | None
    findings: list[FindingOut]
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, v: VersionView) -> VersionOut:
        return cls(id=v.id, captured_at=v.captured_at, content_hash=v.content_hash,
                   title=v.title, description=v.description, price=v.price,
                   findings=[FindingOut.of(f) for f in v.findings],
                   evidence=[EvidenceOut.of(e) for e in v.evidence])


class ListingHistoryOut(BaseModel):
    id: int
    platform: str
    listing_id: str
    url: str | None
    removed_at: datetime | None
    lead_ids: list[int]
    versions: list[VersionOut]


class DecisionIn(BaseModel):
    decision: str = Field(description="review, confirm, dismiss, escalate, refer or close")
    reason_code: str = Field("", description="dismiss: negation, everyday_phrase, "
                                             "licensed_body, complete_fields, "
                                             "not_certification, duplicate, other")
    reason: str = ""
    kind: str = Field("", description="refer: unit, platform or police")
    target: str = Field("", description="refer: the unit's name or the platform")
    note: str = ""
    outcome: str = Field("", description="close: cleaned_up, case_filed, rectified, "
                                         "no_violation, other")


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str


class StatsOut(BaseModel):
    start: str
    end: str
    totals: dict[str, int]
    by_platform: list[dict[str, int | str]]
    by_category: list[dict[str, int | str]]
    by_unit: list[dict[str, int | str]]
    by_week: list[dict[str, int | str]]
