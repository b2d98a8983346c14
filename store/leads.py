"""Lead grouping and scoring: sellers joined across platforms, reposted listings merged,
and a score from severity, listings, categories and the spec's priority signals.

Runs inside the caller's transaction (an ingest or a transition).
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from jingwang.records import Listing
from store.alerting import LeadLabels
from store.db import Ids, Transactions
from store.enums import CLOSED_LEAD_STATUSES, LeadStatus
from store.ingest import SYSTEM_ACTOR, ListingState, SellerState, insert_rows
from store.models import (
    AuditEvent,
    CrawlRun,
    FindingRow,
    Lead,
    LeadListing,
    ListingVersion,
    Seller,
    Source,
)
from store.models import Listing as ListingRow
from store.models_alerts import LeadListingGroup, LeadProfile, LeadSeller
from store.models_review import LeadReview
from store.priority import compact, find_signals

SEVERITY_WEIGHTS: dict[str, float] = {"low": 1.0, "medium": 2.0, "high": 3.0, "critical": 5.0}
SEVERITY_ORDER = ("low", "medium", "high", "critical")

# Shop names are joined across platforms at this rapidfuzz ratio of their normalised
# cores (0–100). Chosen on data (tests/alerts/test_grouping.py re-derives it): among
# distinct sellers — the 附件3 registry and lookalike shop names such as 优证企业服务 /
# 快证企业服务 — the highest ratio is 83.3 (one character of a six-character core);
# the same shop as shown on different platforms (旗舰店/官方店 suffixes, brackets,
# traditional characters, the region moved) scores 100. 90 lets a one-character slip
# through only in cores of ten characters or more.
NAME_THRESHOLD = 90.0
# Cores shorter than this must be equal: "小李代办" and "小周代办" are two people.
MIN_FUZZY_CORE = 6
# Listings whose compact title+description are this close are the same text reposted.
DUPLICATE_THRESHOLD = 95.0

# Score: each distinct text counts its worst finding's weight, times 1 + SIGNAL_BONUS
# per priority signal on it; reposts add DUPLICATE_BONUS each (capped); a lead that
# spans more than two categories adds BREADTH_BONUS per further category.
SIGNAL_BONUS = 0.5
DUPLICATE_BONUS = 0.25
DUPLICATE_BONUS_CAP = 5.0
BREADTH_BONUS = 1.0

_BRACKETS = re.compile(r"[(（\[【<《][^(（\[【<《)）\]】>》]*[)）\]】>》]")
_NOISE = re.compile(r"[\W_]+", re.UNICODE)
_SUFFIXES = re.compile(
    r"(?:股份有限公司|有限责任公司|有限公司|公司|官方旗舰店|旗舰店|专营店|专卖店|官方店|企业店|"
    r"自营店|工作室|小店|店铺|网店|店)$")
_PROVINCES = ("北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|"
              "河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|"
              "宁夏|新疆|香港|澳门")
_REGION = re.compile(rf"^(?:(?:{_PROVINCES})(?:省|市|自治区|特别行政区)?)?"
                     r"(?:[\u4e00-\u9fff]{2,3}?市)?")
_CREDIT_CODE = re.compile(r"^[0-9A-Z]{18}$")


# -- sellers ------------------------------------------------------------------------


def normalize_name(name: str) -> str:
    """A shop name's core: simplified, without brackets, punctuation, legal or shop
    suffixes (有限公司, 旗舰店 …) and a leading province or city."""
    # Brackets hold asides (地区, 官方), innermost first — unless they hold the whole name.
    text = unicodedata.normalize("NFKC", name)
    while True:
        stripped = _BRACKETS.sub("", text)
        if stripped == text or not compact(stripped):
            break
        text = stripped
    core = compact(text)
    for _ in range(2):
        core = _SUFFIXES.sub("", core)
    match = _REGION.match(core)
    if match and match.end() and len(core) - match.end() >= 4:
        core = core[match.end():]
    return core


def name_similarity(a: str, b: str) -> float:
    """rapidfuzz ratio of two names' cores; short cores score 100 or 0."""
    core_a, core_b = normalize_name(a), normalize_name(b)
    if not core_a or not core_b:
        return 0.0
    if min(len(core_a), len(core_b)) < MIN_FUZZY_CORE:
        return 100.0 if core_a == core_b else 0.0
    return float(fuzz.ratio(core_a, core_b))


def credit_code(value: str | None) -> str | None:
    """A credit code as compared: upper case without spaces, or None if it is not one."""
    if not value:
        return None
    code = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    return code if _CREDIT_CODE.match(code) else None


@dataclass(frozen=True, slots=True)
class SellerKey:
    id: int
    platform: str
    name: str
    credit_code: str | None


def same_seller(a: SellerKey, b: SellerKey) -> tuple[str, float] | None:
    """How two shops are one seller: by credit code, else by name; two different
    credit codes mean two sellers whatever their names."""
    code_a, code_b = credit_code(a.credit_code), credit_code(b.credit_code)
    if code_a and code_b:
        return ("credit_code", 100.0) if code_a == code_b else None
    similarity = name_similarity(a.name, b.name)
    return ("name", similarity) if similarity >= NAME_THRESHOLD else None


def _key(seller: SellerState) -> SellerKey:
    return SellerKey(seller.id, seller.platform, seller.name, seller.credit_code)


def lead_sellers(session: Session, lead: Lead) -> list[Seller]:
    """The lead's own seller first, then the ones joined into it."""
    own = session.get(Seller, lead.seller_id)
    joined = session.scalars(
        select(Seller).join(LeadSeller, LeadSeller.seller_id == Seller.id)
        .where(LeadSeller.lead_id == lead.id).order_by(LeadSeller.added_at, Seller.id)).all()
    return ([own] if own is not None else []) + list(joined)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A seller of an open lead, as a seller from another platform may be matched to it."""

    lead_id: int
    seller: SellerKey
    code: str | None  # credit code as compared
    core: str  # name core


def _candidate(lead_id: int, seller: SellerKey) -> _Candidate:
    return _Candidate(lead_id, seller, credit_code(seller.credit_code),
                      normalize_name(seller.name))


class Candidates:
    """The sellers of every open lead: the leads' own sellers, then the sellers joined
    into them, each in lead order. Loaded once per ingest transaction and kept up to date
    as it opens leads and joins sellers."""

    def __init__(self, session: Session) -> None:
        columns = (Lead.id.label("lead_id"), Seller.id.label("seller_id"), Seller.platform,
                   Seller.name, Seller.credit_code)
        is_open = Lead.status.not_in(CLOSED_LEAD_STATUSES)
        own = select(*columns, literal(0).label("joined")).join(
            Seller, Seller.id == Lead.seller_id).where(is_open)
        joined = select(*columns, literal(1).label("joined")).join(
            LeadSeller, LeadSeller.lead_id == Lead.id).join(
            Seller, Seller.id == LeadSeller.seller_id).where(is_open)
        both = union_all(own, joined).subquery()
        self.own: list[_Candidate] = []
        self.joined: list[_Candidate] = []
        for lead_id, sid, platform, name, code, is_joined in session.execute(
                select(both).order_by(both.c.joined, both.c.lead_id)):
            (self.joined if is_joined else self.own).append(
                _candidate(lead_id, SellerKey(sid, platform, name, code)))

    def opened(self, lead_id: int, seller: SellerState) -> None:
        """A lead this transaction opened (the newest lead: last of the own sellers)."""
        self.own.append(_candidate(lead_id, _key(seller)))

    def joined_into(self, lead_id: int, seller: SellerState) -> None:
        """A seller this transaction joined into a lead (after the lead's other ones)."""
        at = bisect.bisect_right([c.lead_id for c in self.joined], lead_id)
        self.joined.insert(at, _candidate(lead_id, _key(seller)))

    def find(self, seller: SellerState) -> tuple[int, str, float] | None:
        """An open lead of a seller on another platform that is this seller: (lead id,
        how, similarity). Credit codes are tried before names."""
        candidates = [c for c in (*self.own, *self.joined)
                      if c.seller.platform != seller.platform]
        if not candidates:
            return None
        code = credit_code(seller.credit_code)
        if code:
            for candidate in candidates:
                if candidate.code == code:
                    return candidate.lead_id, "credit_code", 100.0
        core = normalize_name(seller.name)
        if not core:
            return None
        # A cheap first pass over every candidate's core, then the full rule on the best.
        me = _key(seller)
        for _, _score, index in process.extract(core, [c.core for c in candidates],
                                               scorer=fuzz.ratio,
                                               score_cutoff=NAME_THRESHOLD, limit=5):
            match = same_seller(me, candidates[index].seller)
            if match is not None:
                return candidates[index].lead_id, match[0], match[1]
        return None


# -- listings -----------------------------------------------------------------------


def listing_text(title: str, description: str) -> str:
    return compact(f"{title}\n{description}")


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Filing:
    """What one ingest transaction knows about leads, so that it files a batch with a
    few queries however many listings the batch has. :meth:`prefetch` loads what the
    batch's sellers and listings already have; :func:`attach` keeps it up to date; the
    rows it adds are written together by :meth:`flush`."""

    ids: Ids
    new_sellers: set[int] = field(default_factory=set)  # inserted by this transaction
    new_listings: set[int] = field(default_factory=set)  # inserted by this transaction
    known: dict[int, Lead] = field(default_factory=dict)  # seller id → its open lead
    leadless: set[int] = field(default_factory=set)  # sellers known to have no open lead
    checked: set[int] = field(default_factory=set)  # listings whose rows below are loaded
    listed: set[tuple[int, int]] = field(default_factory=set)  # (lead, listing) rows
    grouped: set[tuple[int, int]] = field(default_factory=set)  # (lead, listing) groups
    filed: set[tuple[int, int]] = field(default_factory=set)  # (lead, listing) filed here
    # lead id → its representatives: (listing id, fingerprint, text)
    reps: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)
    candidates: Candidates | None = None  # loaded when a seller without a lead needs them
    opened: dict[int, Lead] = field(default_factory=dict)  # opened here, not yet flushed
    # rows attach adds, inserted together by flush (lead_listing, lead_listing_group,
    # lead_seller, audit_event)
    rows: dict[type[Any], list[dict[str, Any]]] = field(default_factory=dict)

    def prefetch(self, session: Session, seller_ids: Iterable[int],
                 listing_ids: Iterable[int]) -> None:
        """The open leads of the batch's stored sellers (locked), and the leads and
        groups its stored listings are filed in."""
        stored = sorted(set(seller_ids) - self.new_sellers - self.known.keys()
                        - self.leadless)
        if stored:
            for lead in session.scalars(
                    select(Lead).where(Lead.seller_id.in_(stored),
                                       Lead.status.not_in(CLOSED_LEAD_STATUSES))
                    .order_by(Lead.id).with_for_update()):
                self.known[lead.seller_id] = lead
            rest = [i for i in stored if i not in self.known]
            if rest:
                for seller_id, lead in session.execute(
                        select(LeadSeller.seller_id, Lead)
                        .join(Lead, LeadSeller.lead_id == Lead.id)
                        .where(LeadSeller.seller_id.in_(rest),
                               Lead.status.not_in(CLOSED_LEAD_STATUSES))
                        .order_by(Lead.id.desc()).with_for_update()):
                    self.known.setdefault(seller_id, lead)  # the newest lead
            self.leadless.update(i for i in stored if i not in self.known)
            self.representatives(session, (lead.id for lead in self.known.values()))
        listings = sorted(set(listing_ids) - self.new_listings - self.checked)
        self.checked.update(listings)
        if listings:
            self.listed.update((lead_id, listing_id) for lead_id, listing_id in session.execute(
                select(LeadListing.lead_id, LeadListing.listing_id)
                .where(LeadListing.listing_id.in_(listings))))
            self.grouped.update((lead_id, listing_id) for lead_id, listing_id in session.execute(
                select(LeadListingGroup.lead_id, LeadListingGroup.listing_id)
                .where(LeadListingGroup.listing_id.in_(listings))))

    def joinable(self, session: Session, seller: SellerState
                 ) -> tuple[int, str, float] | None:
        if self.candidates is None:
            self.candidates = Candidates(session)
        return self.candidates.find(seller)

    def add(self, model: type[Any], **row: Any) -> None:
        self.rows.setdefault(model, []).append(row)

    def audit(self, *, at: datetime, action: str, lead_id: int,
              detail: dict[str, Any]) -> None:
        self.add(AuditEvent, at=at, actor=SYSTEM_ACTOR, action=action, object_type="lead",
                 object_id=str(lead_id), detail=detail)

    def flush(self, session: Session) -> None:
        """Write what :func:`attach` added: the new leads, then the rows that name them."""
        session.flush()
        for model in (LeadSeller, LeadListing, LeadListingGroup, AuditEvent):
            if self.rows.get(model):
                insert_rows(session, model, self.rows.pop(model))

    def representatives(self, session: Session, lead_ids: Iterable[int]) -> None:
        """Load the representatives of leads stored before this transaction (one query
        for all of them)."""
        wanted = sorted(set(lead_ids) - self.reps.keys())
        if not wanted:
            return
        for lead_id in wanted:
            self.reps[lead_id] = []
        for lead_id, rep_id, fingerprint, title, description in session.execute(
                select(LeadListingGroup.lead_id, LeadListingGroup.listing_id,
                       LeadListingGroup.fingerprint, ListingVersion.title,
                       ListingVersion.description)
                .join(ListingRow, ListingRow.id == LeadListingGroup.listing_id)
                .join(ListingVersion, ListingVersion.id == ListingRow.current_version_id)
                .where(LeadListingGroup.lead_id.in_(wanted),
                       LeadListingGroup.listing_id == LeadListingGroup.representative_id)
                .order_by(LeadListingGroup.lead_id, LeadListingGroup.listing_id)):
            self.reps[lead_id].append((rep_id, fingerprint, listing_text(title, description)))


def group_listing(session: Session, lead: Lead, listing_row: ListingState, listing: Listing,
                  filing: Filing) -> None:
    """File the listing under a representative of the lead: the first listing with the
    same or a nearly the same text, or itself. A listing filed before keeps its group
    (a representative's text follows its newest version)."""
    text = listing_text(listing.title, listing.description)
    fingerprint = _fingerprint(text)
    filing.representatives(session, [lead.id])
    reps = filing.reps[lead.id]
    key = (lead.id, listing_row.id)
    if key in filing.filed or key in filing.grouped:
        for i, (rep_id, _, _) in enumerate(reps):
            if rep_id == listing_row.id:
                reps[i] = (rep_id, fingerprint, text)
        return
    representative, similarity = listing_row.id, 100.0
    best = 0.0
    for rep_id, rep_fingerprint, rep_text in reps:
        if rep_fingerprint == fingerprint:
            representative, best = rep_id, 100.0
            break
        score = float(fuzz.ratio(text, rep_text))
        if score >= DUPLICATE_THRESHOLD and score > best:
            representative, best = rep_id, score
    if representative != listing_row.id:
        similarity = best
    else:
        reps.append((listing_row.id, fingerprint, text))
        reps.sort()
    filing.add(LeadListingGroup, lead_id=lead.id, listing_id=listing_row.id,
               representative_id=representative, fingerprint=fingerprint,
               similarity=similarity)


# -- the lead -----------------------------------------------------------------------


def _new_lead(session: Session, filing: Filing, seller: SellerState, listing_row: ListingState,
              now: datetime) -> Lead:
    lead = Lead(id=filing.ids.take(Lead)[0], seller_id=seller.id,
                status=LeadStatus.NEW, new_at=now, categories=[], score=0.0, created_at=now,
                updated_at=now)
    session.add(lead)
    filing.opened[lead.id] = lead
    filing.reps[lead.id] = []
    filing.audit(at=now, action="lead.created", lead_id=lead.id,
                 detail={"seller_id": seller.id, "listing_id": listing_row.id})
    return lead


def _join(session: Session, filing: Filing, seller: SellerState, now: datetime) -> Lead | None:
    """The open lead of the same seller on another platform, with this seller joined
    into it; None if there is none."""
    joinable = filing.joinable(session, seller)
    if joinable is None:
        return None
    lead_id, how, similarity = joinable
    lead = filing.opened.get(lead_id) or session.get(Lead, lead_id, with_for_update=True)
    if lead is None or lead.status in CLOSED_LEAD_STATUSES:
        return None
    filing.add(LeadSeller, lead_id=lead.id, seller_id=seller.id, joined_by=how,
               similarity=similarity, added_at=now)
    filing.audit(at=now, action="lead.seller_joined", lead_id=lead.id,
                 detail={"seller_id": seller.id, "platform": seller.platform,
                         "joined_by": how, "similarity": similarity})
    assert filing.candidates is not None
    filing.candidates.joined_into(lead.id, seller)
    return lead


def attach(session: Session, filing: Filing, *, seller: SellerState, listing_row: ListingState,
           listing: Listing, now: datetime) -> tuple[Lead, bool]:
    """Get the seller's open lead — its own, or another platform's lead of the same
    seller — or open one, and file the listing under it. The caller prefetches what
    the batch's listings need (:meth:`Filing.prefetch`, else one listing at a time
    here) before the batch's first attach, then flushes
    (:meth:`Filing.flush`) and refreshes the leads (:func:`refresh`) after its last."""
    filing.prefetch(session, [seller.id], [listing_row.id])  # a no-op once prefetched
    lead = filing.known.get(seller.id)
    created = False
    if lead is None:
        lead = _join(session, filing, seller, now)
    if lead is None:
        lead = _new_lead(session, filing, seller, listing_row, now)
        if filing.candidates is not None:
            filing.candidates.opened(lead.id, seller)
        created = True
    key = (lead.id, listing_row.id)
    if key not in filing.filed and key not in filing.listed:
        filing.add(LeadListing, lead_id=lead.id, listing_id=listing_row.id, added_at=now)
    group_listing(session, lead, listing_row, listing, filing)
    filing.filed.add(key)
    filing.known[seller.id] = lead
    filing.leadless.discard(seller.id)
    return lead, created


def source_region(session: Session, run_id: int) -> str | None:
    """The region of the source a crawl run belongs to (from its configuration)."""
    config = session.scalar(select(Source.config).join(CrawlRun, CrawlRun.source_id == Source.id)
                            .where(CrawlRun.id == run_id))
    region = (config or {}).get("region") if isinstance(config, dict) else None
    return str(region) if region else None


def _worst(severities: Iterable[str]) -> str:
    ranked = [s for s in severities if s in SEVERITY_ORDER]
    return max(ranked, key=SEVERITY_ORDER.index) if ranked else "low"


@dataclass
class _LeadFacts:
    """What a lead's refresh reads: its findings, listings and platforms."""

    findings: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    listings: list[int] = field(default_factory=list)
    platforms: set[str] = field(default_factory=set)
    reps: dict[int, int] = field(default_factory=dict)  # listing id → representative


def _lead_facts(session: Session, lead_ids: list[int]) -> dict[int, _LeadFacts]:
    """The facts of every lead in ``lead_ids``, in four queries."""
    facts = {lead_id: _LeadFacts() for lead_id in lead_ids}
    for lead_id, listing_id, version_id, category, severity, rule in session.execute(
            select(LeadListing.lead_id, ListingVersion.listing_id, ListingVersion.id,
                   FindingRow.category, FindingRow.severity, FindingRow.rule)
            .join(FindingRow, FindingRow.version_id == ListingVersion.id)
            .join(LeadListing, LeadListing.listing_id == ListingVersion.listing_id)
            .where(LeadListing.lead_id.in_(lead_ids))):
        facts[lead_id].findings.append((listing_id, version_id, category, severity, rule))
    # The leads' listings with their platforms and representatives.
    for lead_id, listing_id, platform, rep in session.execute(
            select(LeadListing.lead_id, LeadListing.listing_id, ListingRow.platform,
                   LeadListingGroup.representative_id)
            .join(ListingRow, ListingRow.id == LeadListing.listing_id)
            .outerjoin(LeadListingGroup,
                       (LeadListingGroup.lead_id == LeadListing.lead_id)
                       & (LeadListingGroup.listing_id == LeadListing.listing_id))
            .where(LeadListing.lead_id.in_(lead_ids))):
        lead = facts[lead_id]
        lead.listings.append(listing_id)
        lead.platforms.add(platform)
        if rep is not None:
            lead.reps[listing_id] = rep
    # The platforms of the leads' sellers: their own and the ones joined into them.
    own = select(Lead.id, Seller.platform).join(Seller, Seller.id == Lead.seller_id).where(
        Lead.id.in_(lead_ids))
    joined = select(LeadSeller.lead_id, Seller.platform).join(
        Seller, Seller.id == LeadSeller.seller_id).where(LeadSeller.lead_id.in_(lead_ids))
    for lead_id, platform in session.execute(union_all(own, joined)):
        facts[lead_id].platforms.add(platform)
    return facts


def _version_signals(session: Session, version_ids: set[int]) -> dict[int, frozenset[str]]:
    """The priority signals in each version's title, description and picture texts."""
    if not version_ids:
        return {}
    return {version_id: _signals(title, description, tuple(image_texts))
            for version_id, title, description, image_texts in session.execute(
                select(ListingVersion.id, ListingVersion.title, ListingVersion.description,
                       ListingVersion.image_texts)
                .where(ListingVersion.id.in_(sorted(version_ids))))}


@lru_cache(maxsize=8192)
def _signals(title: str, description: str, image_texts: tuple[str, ...]) -> frozenset[str]:
    """A version's priority signals (versions never change; a lead's refresh reads the
    same versions batch after batch)."""
    return frozenset(find_signals([title, description, *image_texts]))


def refresh(session: Session, leads: Sequence[Lead], *, now: datetime,
            region: str | None = None) -> None:
    """Categories, score and profile of each lead over every version of its listings:
    a violation a seller later edited away is still evidence of it."""
    if not leads:
        return
    lead_ids = sorted({lead.id for lead in leads})
    facts = _lead_facts(session, lead_ids)
    signals_of = _version_signals(
        session, {version_id for f in facts.values() for _, version_id, *_ in f.findings})
    profiles = {profile.lead_id: profile for profile in session.scalars(
        select(LeadProfile).where(LeadProfile.lead_id.in_(lead_ids)))}
    for lead in leads:
        profile = profiles.get(lead.id)
        if profile is None:
            profile = profiles[lead.id] = LeadProfile(lead_id=lead.id, region=region)
            session.add(profile)
        _score(lead, profile, facts[lead.id], signals_of, now=now, region=region)


def _score(lead: Lead, profile: LeadProfile, facts: _LeadFacts,
           signals_of: dict[int, frozenset[str]], *, now: datetime, region: str | None) -> None:
    worst: dict[int, float] = {}
    signals: dict[int, set[str]] = defaultdict(set)
    categories: set[str] = set()
    rules: set[str] = set()
    severities: list[str] = []
    for listing_id, version_id, category, severity, rule in facts.findings:
        categories.add(category)
        rules.add(rule)
        severities.append(severity)
        signals[listing_id] |= signals_of[version_id]
        worst[listing_id] = max(worst.get(listing_id, 0.0), SEVERITY_WEIGHTS.get(severity, 1.0))
    reps = facts.reps
    group_score: dict[int, float] = {}
    for listing_id, weight in worst.items():
        value = weight * (1 + SIGNAL_BONUS * len(signals[listing_id]))
        rep = reps.get(listing_id, listing_id)
        group_score[rep] = max(group_score.get(rep, 0.0), value)
    listing_ids = facts.listings
    groups = len({reps.get(i, i) for i in listing_ids})
    duplicates = min(DUPLICATE_BONUS_CAP, DUPLICATE_BONUS * max(0, len(listing_ids) - groups))
    breadth = BREADTH_BONUS * max(0, len(categories) - 2)
    base = sum(group_score.values())
    all_signals = sorted(set().union(*signals.values())) if signals else []
    lead.categories = sorted(categories)
    lead.score = round(base + duplicates + breadth, 2)
    lead.updated_at = now

    if region and not profile.region:
        profile.region = region
    profile.severity = _worst(severities)
    profile.signals = all_signals
    profile.rules = sorted(rules)
    profile.platforms = sorted(facts.platforms)
    profile.listing_count = len(listing_ids)
    profile.group_count = groups
    profile.score_detail = {"texts": round(base, 2), "duplicates": round(duplicates, 2),
                            "breadth": breadth, "signals": all_signals}
    profile.updated_at = now  # flushed with the batch's next query or its commit


def labels(session: Session, lead: Lead, event: str, *, referral: str = "") -> LeadLabels:
    """The lead as route matchers see it at ``event``."""
    profile = session.get(LeadProfile, lead.id)
    sellers = lead_sellers(session, lead)
    platforms = tuple(profile.platforms) if profile else tuple(
        sorted({s.platform for s in sellers}))
    return LeadLabels(
        event=event, lead_id=lead.id, status=lead.status.value,
        categories=tuple(lead.categories), severity=profile.severity if profile else "low",
        platforms=platforms, region=(profile.region or "") if profile else "",
        score=float(lead.score), signals=tuple(profile.signals) if profile else (),
        rules=tuple(profile.rules) if profile else (), referral=referral,
        sellers=tuple(s.id for s in sellers))


def summary_payload(session: Session, lead: Lead, *, limit: int = 10) -> dict[str, Any]:
    """A lead as an alert shows it: seller, categories, score and its listings."""
    sellers = lead_sellers(session, lead)
    seller = sellers[0]
    profile = session.get(LeadProfile, lead.id)
    listings = session.execute(
        select(ListingRow.platform, ListingRow.platform_listing_id, ListingRow.url,
               ListingVersion.title, ListingRow.removed_at)
        .join(LeadListing, LeadListing.listing_id == ListingRow.id)
        .outerjoin(ListingVersion, ListingVersion.id == ListingRow.current_version_id)
        .where(LeadListing.lead_id == lead.id)
        .order_by(LeadListing.added_at, ListingRow.id).limit(limit)).all()
    return {
        "lead_id": lead.id,
        "status": lead.status.value,
        "created_at": lead.created_at.isoformat(),
        "platform": seller.platform,
        "shop": seller.name,
        "shop_id": seller.shop_id,
        "credit_code": seller.credit_code,
        "other_shops": [{"platform": s.platform, "shop": s.name} for s in sellers[1:]],
        "categories": list(lead.categories),
        "score": lead.score,
        "signals": list(profile.signals) if profile else [],
        "listing_count": profile.listing_count if profile else len(listings),
        "listings": [{"platform": platform, "listing_id": listing_id, "url": url,
                      "title": title or "",
                      "removed_at": removed.isoformat() if removed else None}
                     for platform, listing_id, url, title, removed in listings],
    }


def set_unit_if_unset(session: Session, lead_id: int, unit_name: str | None,
                      now: datetime) -> None:
    """Fill the lead's 承办单位 in the workbench from routing, unless someone set it."""
    if not unit_name:
        return
    row = session.get(LeadReview, lead_id)
    if row is None:
        session.add(LeadReview(lead_id=lead_id, unit=unit_name[:64], updated_at=now))
    elif row.unit is None:
        row.unit, row.updated_at = unit_name[:64], now


class LeadReader(Transactions):
    """Reads of what this module adds to a lead, for the CLI and the workbench."""

    def describe(self, lead_id: int) -> dict[str, Any] | None:
        """Sellers (and how they were joined), listing groups, score breakdown and
        referrals of a lead; None if there is no such lead."""
        from store.models_review import LeadReferral

        with self._read() as session:
            lead = session.get(Lead, lead_id)
            if lead is None:
                return None
            joined = {row.seller_id: row for row in session.scalars(
                select(LeadSeller).where(LeadSeller.lead_id == lead_id))}
            profile = session.get(LeadProfile, lead_id)
            groups = session.execute(
                select(LeadListingGroup.listing_id, LeadListingGroup.representative_id,
                       LeadListingGroup.similarity, ListingRow.platform_listing_id,
                       ListingRow.removed_at)
                .join(ListingRow, ListingRow.id == LeadListingGroup.listing_id)
                .where(LeadListingGroup.lead_id == lead_id)
                .order_by(LeadListingGroup.listing_id)).all()
            referrals = session.scalars(select(LeadReferral).where(
                LeadReferral.lead_id == lead_id).order_by(LeadReferral.at, LeadReferral.id))
            return {
                "id": lead.id, "status": lead.status.value, "score": lead.score,
                "categories": list(lead.categories),
                "sellers": [{"id": s.id, "platform": s.platform, "name": s.name,
                             "credit_code": s.credit_code,
                             "joined_by": joined[s.id].joined_by if s.id in joined else None,
                             "similarity": joined[s.id].similarity if s.id in joined else None}
                            for s in lead_sellers(session, lead)],
                "listings": [{"id": listing_id, "listing_id": pid, "representative": rep,
                              "similarity": sim, "removed_at": removed}
                             for listing_id, rep, sim, pid, removed in groups],
                "profile": None if profile is None else {
                    "severity": profile.severity, "signals": list(profile.signals),
                    "rules": list(profile.rules), "platforms": list(profile.platforms),
                    "region": profile.region, "listing_count": profile.listing_count,
                    "group_count": profile.group_count,
                    "score_detail": dict(profile.score_detail)},
                "referrals": [{"kind": r.kind.value, "target": r.target, "at": r.at,
                               "actor": r.actor, "note": r.note} for r in referrals],
            }
