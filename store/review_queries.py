"""Read queries of the review workbench: the filtered queue, listing histories, export
bundles and dismissal reasons, returned as plain records."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Engine, String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from store.enums import LeadStatus
from store.models import Evidence, FindingRow, Lead, LeadListing, ListingVersion, Seller
from store.models import Listing as ListingRow
from store.models_review import AppUser, LeadReferral, LeadReview, ReferralKind
from store.queries import evidence_view, lead_views
from store.views import EvidenceView, FindingView, LeadView

SORTS = ("newest", "oldest", "score", "updated")
# Neighbour lookups (j/k between leads) scan at most this many ids of the filtered queue.
NEIGHBOUR_WINDOW = 5000


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows; every field is optional and they combine with AND."""

    statuses: tuple[LeadStatus, ...] = ()
    category: str | None = None
    platform: str | None = None
    unit: str | None = None
    min_score: float | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    text: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    escalated: bool = False
    lead_ids: tuple[int, ...] = ()
    sort: str = "newest"


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    status: LeadStatus
    platform: str
    shop_name: str
    credit_code: str | None
    categories: tuple[str, ...]
    score: float
    created_at: datetime
    updated_at: datetime
    listing_count: int
    title: str
    assignee: str | None
    unit: str | None
    escalated: bool


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    total: int


@dataclass(frozen=True, slots=True)
class VersionView:
    id: int
    captured_at: datetime
    content_hash: str
    title: str
    description: str
    price: str | None
    findings: tuple[FindingView, ...]
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True, slots=True)
class ListingHistory:
    id: int
    platform: str
    listing_id: str
    url: str | None
    seller_id: int
    current_version_id: int | None
    removed_at: datetime | None
    versions: tuple[VersionView, ...]  # oldest first


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    assignee: str | None
    unit: str | None
    escalated: bool
    outcome: str | None
    referrals: tuple[tuple[ReferralKind, str, datetime], ...]


@dataclass(frozen=True, slots=True)
class LeadBundle:
    """A lead with its review summary: what an export is made of."""

    lead: LeadView
    review: ReviewSummary


@dataclass(frozen=True, slots=True)
class DismissalView:
    lead_id: int
    platform: str
    shop_name: str
    reason: str | None
    dismissed_at: datetime | None
    findings: tuple[tuple[str, str, str, str], ...]  # (rule, category, text, lexicon version)


def finding_view(row: FindingRow) -> FindingView:
    return FindingView(rule=row.rule, category=row.category, field=row.field, start=row.start,
                       end=row.end, text=row.text, severity=row.severity,
                       evasions=tuple(row.evasions), legal_basis=tuple(row.legal_basis),
                       lexicon_version=row.lexicon_version)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _HasCategory(ColumnElement[bool]):
    """Leads whose categories include ``category``, in each backend's indexable form."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, category: str) -> None:
        self.category = category


@compiles(_HasCategory)
def _has_category_text(element: _HasCategory, compiler: Any, **kw: Any) -> str:
    like = cast(Lead.categories, String).like(_like(f'"{element.category}"'), escape="\\")
    return str(compiler.process(like, **kw))


@compiles(_HasCategory, "postgresql")
def _has_category_jsonb(element: _HasCategory, compiler: Any, **kw: Any) -> str:
    contains = Lead.categories.op("@>")(
        cast(literal(json.dumps([element.category])), JSONB))
    return str(compiler.process(contains, **kw))


def _conditions(flt: QueueFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.statuses:
        where.append(Lead.status.in_(flt.statuses))
    if flt.category:
        # categories is a JSON list of plain identifiers. PostgreSQL: JSONB containment,
        # which the GIN index ix_lead_categories serves. SQLite: its text holds "name"
        # with quotes, so a LIKE on the quoted name is exact.
        where.append(_HasCategory(flt.category))
    if flt.platform:
        where.append(Seller.platform == flt.platform)
    if flt.unit:
        where.append(LeadReview.unit == flt.unit)
    if flt.min_score is not None:
        where.append(Lead.score >= flt.min_score)
    if flt.created_from is not None:
        where.append(Lead.created_at >= flt.created_from)
    if flt.created_to is not None:
        where.append(Lead.created_at < flt.created_to)
    if flt.unassigned:
        where.append(LeadReview.assignee_id.is_(None))
    elif flt.assignee_id is not None:
        where.append(LeadReview.assignee_id == flt.assignee_id)
    if flt.escalated:
        where.append(LeadReview.escalated_at.is_not(None))
    if flt.lead_ids:
        where.append(Lead.id.in_(flt.lead_ids))
    text = (flt.text or "").strip()
    if text:
        pattern = _like(text)
        in_listing = exists(
            select(LeadListing.listing_id)
            .join(ListingVersion, ListingVersion.listing_id == LeadListing.listing_id)
            .join(ListingRow, ListingRow.id == LeadListing.listing_id)
            .where(LeadListing.lead_id == Lead.id,
                   or_(ListingVersion.title.ilike(pattern, escape="\\"),
                       ListingVersion.description.ilike(pattern, escape="\\"),
                       ListingRow.url.ilike(pattern, escape="\\"),
                       ListingRow.platform_listing_id.ilike(pattern, escape="\\"))))
        matches = [Seller.name.ilike(pattern, escape="\\"),
                   Seller.credit_code.ilike(pattern, escape="\\"),
                   Seller.shop_id.ilike(pattern, escape="\\"), in_listing]
        number = text.lstrip("#")
        if number.isdigit() and len(number) < 10:
            matches.append(Lead.id == int(number))
        where.append(or_(*matches))
    return where


def _ordering(sort: str) -> list[Any]:
    if sort == "oldest":
        return [Lead.created_at.asc(), Lead.id.asc()]
    if sort == "score":
        return [Lead.score.desc(), Lead.created_at.desc(), Lead.id.desc()]
    if sort == "updated":
        return [Lead.updated_at.desc(), Lead.id.desc()]
    return [Lead.created_at.desc(), Lead.id.desc()]


class ReviewQueries:
    """Read-only queries over the store's tables and the workbench's own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _base(self) -> Any:
        return (select(Lead, Seller, LeadReview, AppUser.username)
                .join(Seller, Seller.id == Lead.seller_id)
                .outerjoin(LeadReview, LeadReview.lead_id == Lead.id)
                .outerjoin(AppUser, AppUser.id == LeadReview.assignee_id))

    def queue(self, flt: QueueFilter, *, limit: int, offset: int) -> QueuePage:
        where = _conditions(flt)
        with self._read() as session:
            count = select(func.count()).select_from(Lead)
            if flt.platform or (flt.text or "").strip():
                # Every lead has its seller; join it only when a condition reads it
                # (PostgreSQL cannot drop an unused inner join, and on a big queue the
                # join is most of the count's time).
                count = count.join(Seller, Seller.id == Lead.seller_id)
            total = int(session.scalar(
                count.outerjoin(LeadReview, LeadReview.lead_id == Lead.id)
                .where(*where)) or 0)
            found = session.execute(self._base().where(*where).order_by(*_ordering(flt.sort))
                                    .limit(limit).offset(offset)).all()
            ids = [row[0].id for row in found]
            counts = dict(session.execute(
                select(LeadListing.lead_id, func.count())
                .where(LeadListing.lead_id.in_(ids)).group_by(LeadListing.lead_id)).all())
            titles: dict[int, str] = {}
            for lead_id, title in session.execute(
                    select(LeadListing.lead_id, ListingVersion.title)
                    .join(ListingRow, ListingRow.id == LeadListing.listing_id)
                    .join(ListingVersion, ListingVersion.id == ListingRow.current_version_id)
                    .where(LeadListing.lead_id.in_(ids))
                    .order_by(LeadListing.added_at, LeadListing.listing_id)):
                titles.setdefault(lead_id, title)
            rows = tuple(
                QueueRow(id=lead.id, status=LeadStatus(lead.status), platform=seller.platform,
                         shop_name=seller.name, credit_code=seller.credit_code,
                         categories=tuple(lead.categories), score=lead.score,
                         created_at=lead.created_at, updated_at=lead.updated_at,
                         listing_count=int(counts.get(lead.id, 0)),
                         title=titles.get(lead.id, ""), assignee=username,
                         unit=review.unit if review else None,
                         escalated=bool(review and review.escalated_at))
                for lead, seller, review, username in found)
            return QueuePage(rows=rows, total=total)

    def lead_ids(self, flt: QueueFilter, *, limit: int = 100_000) -> list[int]:
        """Ids of the filtered queue in its order (exports and bulk actions)."""
        with self._read() as session:
            return list(session.scalars(
                select(Lead.id).join(Seller, Seller.id == Lead.seller_id)
                .outerjoin(LeadReview, LeadReview.lead_id == Lead.id)
                .where(*_conditions(flt)).order_by(*_ordering(flt.sort)).limit(limit)))

    def neighbours(self, flt: QueueFilter, lead_id: int) -> tuple[int | None, int | None]:
        """The previous and next lead around ``lead_id`` in the filtered queue."""
        ids = self.lead_ids(flt, limit=NEIGHBOUR_WINDOW)
        if lead_id not in ids:
            return None, ids[0] if ids else None
        i = ids.index(lead_id)
        return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)

    def platforms(self) -> list[str]:
        with self._read() as session:
            return sorted(session.scalars(select(Seller.platform).distinct()))

    def units(self) -> list[str]:
        with self._read() as session:
            return sorted(u for u in session.scalars(
                select(LeadReview.unit).where(LeadReview.unit.is_not(None)).distinct()) if u)

    # -- listings ---------------------------------------------------------------------

    def listing_history(self, listing_id: int) -> ListingHistory | None:
        with self._read() as session:
            row = session.get(ListingRow, listing_id)
            if row is None:
                return None
            versions = list(session.scalars(
                select(ListingVersion).where(ListingVersion.listing_id == listing_id)
                .order_by(ListingVersion.captured_at, ListingVersion.id)))
            ids = [v.id for v in versions]
            findings: dict[int, list[FindingView]] = defaultdict(list)
            for f in session.scalars(select(FindingRow).where(FindingRow.version_id.in_(ids))
                                     .order_by(FindingRow.field, FindingRow.start,
                                               FindingRow.id)):
                findings[f.version_id].append(finding_view(f))
            evidence: dict[int, list[EvidenceView]] = defaultdict(list)
            for e in session.scalars(select(Evidence).where(Evidence.version_id.in_(ids))
                                     .order_by(Evidence.id)):
                evidence[e.version_id].append(evidence_view(e))
            return ListingHistory(
                id=row.id, platform=row.platform, listing_id=row.platform_listing_id,
                url=row.url, seller_id=row.seller_id, current_version_id=row.current_version_id,
                removed_at=row.removed_at,
                versions=tuple(VersionView(
                    id=v.id, captured_at=v.captured_at, content_hash=v.content_hash,
                    title=v.title, description=v.description, price=v.price,
                    findings=tuple(findings.get(v.id, ())),
                    evidence=tuple(evidence.get(v.id, ()))) for v in versions))

    def lead_ids_of_listing(self, listing_id: int) -> list[int]:
        with self._read() as session:
            return list(session.scalars(select(LeadListing.lead_id).where(
                LeadListing.listing_id == listing_id).order_by(LeadListing.lead_id)))

    def evidence_known(self, sha256: str) -> EvidenceView | None:
        with self._read() as session:
            row = session.scalars(select(Evidence).where(Evidence.sha256 == sha256)
                                  .order_by(Evidence.id).limit(1)).first()
            return evidence_view(row) if row is not None else None

    # -- exports ----------------------------------------------------------------------

    def bundles(self, lead_ids: Sequence[int]) -> list[LeadBundle]:
        """Leads with their review summaries, in the order of ``lead_ids``."""
        if not lead_ids:
            return []
        wanted = list(dict.fromkeys(lead_ids))
        with self._read() as session:
            leads = {lead.id: lead for lead in session.scalars(
                select(Lead).where(Lead.id.in_(wanted)))}
            ordered = [leads[i] for i in wanted if i in leads]
            views = lead_views(session, ordered)
            reviews = {r.lead_id: r for r in session.scalars(
                select(LeadReview).where(LeadReview.lead_id.in_(wanted)))}
            users = dict(session.execute(select(AppUser.id, AppUser.username).where(
                AppUser.id.in_({r.assignee_id for r in reviews.values() if r.assignee_id}))
            ).all())
            referrals: dict[int, list[tuple[ReferralKind, str, datetime]]] = defaultdict(list)
            for ref in session.scalars(select(LeadReferral).where(
                    LeadReferral.lead_id.in_(wanted)).order_by(LeadReferral.at,
                                                               LeadReferral.id)):
                referrals[ref.lead_id].append((ReferralKind(ref.kind), ref.target, ref.at))
            bundles = []
            for view in views:
                review = reviews.get(view.id)
                bundles.append(LeadBundle(lead=view, review=ReviewSummary(
                    assignee=users.get(review.assignee_id) if review and review.assignee_id
                    else None,
                    unit=review.unit if review else None,
                    escalated=bool(review and review.escalated_at),
                    outcome=review.outcome if review else None,
                    referrals=tuple(referrals.get(view.id, ())))))
            return bundles

    # -- lexicon feedback ---------------------------------------------------------------

    def dismissals(self, *, limit: int = 500) -> list[DismissalView]:
        """Dismissed leads newest first with the findings that raised them."""
        with self._read() as session:
            found = session.execute(
                select(Lead, Seller).join(Seller, Seller.id == Lead.seller_id)
                .where(Lead.status == LeadStatus.DISMISSED)
                .order_by(Lead.dismissed_at.desc(), Lead.id.desc()).limit(limit)).all()
            ids = [lead.id for lead, _ in found]
            hits: dict[int, dict[tuple[str, str, str, str], None]] = defaultdict(dict)
            for lead_id, rule, category, text, version in session.execute(
                    select(LeadListing.lead_id, FindingRow.rule, FindingRow.category,
                           FindingRow.text, FindingRow.lexicon_version)
                    .join(ListingVersion, ListingVersion.listing_id == LeadListing.listing_id)
                    .join(FindingRow, and_(FindingRow.version_id == ListingVersion.id))
                    .where(LeadListing.lead_id.in_(ids))
                    .order_by(FindingRow.id)):
                hits[lead_id][(rule, category, text, version)] = None
            return [DismissalView(lead_id=lead.id, platform=seller.platform,
                                  shop_name=seller.name, reason=lead.dismiss_reason,
                                  dismissed_at=lead.dismissed_at,
                                  findings=tuple(hits.get(lead.id, {})))
                    for lead, seller in found]
