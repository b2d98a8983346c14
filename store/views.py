"""Read-only records the store hands to alerts and the review workbench (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.enums import EvidenceKind, LeadStatus


@dataclass(frozen=True, slots=True)
class FindingView:
    rule: str
    category: str
    field: str
    start: int
    end: int
    text: str
    severity: str
    evasions: tuple[str, ...]
    legal_basis: tuple[str, ...]
    lexicon_version: str


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """One evidence file's metadata; read its bytes with ``EvidenceStore.read(sha256)``."""

    kind: EvidenceKind
    sha256: str
    size: int
    content_type: str
    url: str
    final_url: str
    http_status: int | None
    fetched_at: datetime
    tool: str
    version_id: int


@dataclass(frozen=True, slots=True)
class ListingView:
    """A listing as a lead shows it.

    Content, findings and evidence come from one version: the newest one that produced
    findings (what the lead is about), or the newest one if none did. ``is_current``
    says whether that is still the live content.
    """

    id: int
    platform: str
    listing_id: str
    url: str | None
    title: str
    description: str
    price: str | None
    version_id: int | None
    captured_at: datetime | None
    is_current: bool
    first_seen_at: datetime
    last_seen_at: datetime
    removed_at: datetime | None
    findings: tuple[FindingView, ...]
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True, slots=True)
class LeadView:
    """A seller-level lead with everything a review page shows."""

    id: int
    status: LeadStatus
    new_at: datetime | None
    in_review_at: datetime | None
    confirmed_at: datetime | None
    dismissed_at: datetime | None
    referred_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    seller_id: int
    platform: str
    shop_id: str | None
    shop_name: str
    shop_url: str | None
    credit_code: str | None
    license_text: str | None
    categories: tuple[str, ...]
    score: float
    dismiss_reason: str | None
    resolution: str | None
    listings: tuple[ListingView, ...]

    def status_at(self, status: LeadStatus) -> datetime | None:
        """When the lead entered ``status`` (None if it never did)."""
        value: datetime | None = getattr(self, f"{status.value}_at")
        return value
