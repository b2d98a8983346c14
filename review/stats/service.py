"""The campaign's figures over a period, counted the way the 附件4 acceptance table asks
where software can count them (listings monitored, leads, confirmed, referred, cleaned up)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine

from review.rendering import CHINA
from store.models_review import ReferralKind
from store.stats_queries import CampaignFacts, campaign_facts

# Each headline figure and the 附件4 items it evidences (序号 in the acceptance table).
TOTAL_KEYS: tuple[tuple[str, str], ...] = (
    ("listings_monitored", "5"),
    ("leads_found", "5"),
    ("confirmed", "4、5"),
    ("dismissed", "—"),
    ("referred_units", "4"),
    ("referred_platform", "5"),
    ("cleaned_up", "5"),
    ("referred_police", "6、9"),
    ("closed", "4"),
)


@dataclass(frozen=True, slots=True)
class Period:
    """Whole China-time days [first, last]; ``start``/``end`` are the UTC bounds."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), CHINA)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), CHINA)


@dataclass(frozen=True, slots=True)
class PlatformFigures:
    platform: str
    listings: int
    leads: int
    confirmed: int
    referred_platform: int
    cleaned_up: int


@dataclass(frozen=True, slots=True)
class WeekFigures:
    monday: date
    leads: int
    confirmed: int
    referred: int


@dataclass(frozen=True, slots=True)
class Figures:
    period: Period
    totals: dict[str, int]
    by_platform: tuple[PlatformFigures, ...]
    by_category: tuple[tuple[str, int, int], ...]  # (category, leads found, confirmed)
    by_unit: tuple[tuple[str, int], ...]  # (unit, leads referred to it)
    by_week: tuple[WeekFigures, ...]


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(first, following - timedelta(days=1))


def _in(value: datetime | None, period: Period) -> bool:
    return value is not None and period.start <= value < period.end


def _monday(value: datetime) -> date:
    day = value.astimezone(CHINA).date()
    return day - timedelta(days=day.weekday())


def figures_from(facts: CampaignFacts, period: Period) -> Figures:
    leads_in = [lead for lead in facts.leads if _in(lead.created_at, period)]
    confirmed = [lead for lead in facts.leads if _in(lead.confirmed_at, period)]
    referred: dict[ReferralKind, set[int]] = defaultdict(set)
    for ref in facts.referrals:
        referred[ref.kind].add(ref.lead_id)
    totals = {
        "listings_monitored": sum(facts.listings_by_platform.values()),
        "leads_found": len(leads_in),
        "confirmed": len(confirmed),
        "dismissed": sum(1 for lead in facts.leads if _in(lead.dismissed_at, period)),
        "referred_units": len(referred[ReferralKind.UNIT]),
        "referred_platform": len(referred[ReferralKind.PLATFORM]),
        "cleaned_up": sum(facts.removed_by_platform.values()),
        "referred_police": len(referred[ReferralKind.POLICE]),
        "closed": sum(1 for lead in facts.leads if _in(lead.closed_at, period)),
    }
    platforms = sorted(set(facts.listings_by_platform) | {lead.platform for lead in leads_in}
                       | {lead.platform for lead in confirmed})
    platform_refs: Counter[str] = Counter()
    seen_refs: set[tuple[str, int]] = set()
    for ref in facts.referrals:
        if ref.kind is ReferralKind.PLATFORM and (ref.platform, ref.lead_id) not in seen_refs:
            seen_refs.add((ref.platform, ref.lead_id))
            platform_refs[ref.platform] += 1
    by_platform = tuple(PlatformFigures(
        platform=p, listings=facts.listings_by_platform.get(p, 0),
        leads=sum(1 for lead in leads_in if lead.platform == p),
        confirmed=sum(1 for lead in confirmed if lead.platform == p),
        referred_platform=platform_refs[p],
        cleaned_up=facts.removed_by_platform.get(p, 0)) for p in platforms)
    found_by_category: Counter[str] = Counter(c for lead in leads_in for c in lead.categories)
    confirmed_by_category: Counter[str] = Counter(c for lead in confirmed
                                                  for c in lead.categories)
    categories = sorted(set(found_by_category) | set(confirmed_by_category),
                        key=lambda c: (-found_by_category[c], c))
    unit_leads: dict[str, set[int]] = defaultdict(set)
    for ref in facts.referrals:
        if ref.kind is ReferralKind.UNIT:
            unit_leads[ref.target].add(ref.lead_id)
    by_unit = tuple(sorted(((u, len(ids)) for u, ids in unit_leads.items()),
                           key=lambda item: (-item[1], item[0])))
    weeks: dict[date, list[int]] = {}
    monday = period.first - timedelta(days=period.first.weekday())
    while monday <= period.last:
        weeks[monday] = [0, 0, 0]
        monday += timedelta(days=7)
    for lead in leads_in:
        weeks.setdefault(_monday(lead.created_at), [0, 0, 0])[0] += 1
    for lead in confirmed:
        assert lead.confirmed_at is not None
        weeks.setdefault(_monday(lead.confirmed_at), [0, 0, 0])[1] += 1
    week_refs: dict[date, set[int]] = defaultdict(set)
    for ref in facts.referrals:
        week_refs[_monday(ref.at)].add(ref.lead_id)
    for day, ids in week_refs.items():
        weeks.setdefault(day, [0, 0, 0])[2] += len(ids)
    by_week = tuple(WeekFigures(monday=d, leads=v[0], confirmed=v[1], referred=v[2])
                    for d, v in sorted(weeks.items()))
    return Figures(period=period, totals=totals, by_platform=by_platform,
                   by_category=tuple((c, found_by_category[c], confirmed_by_category[c])
                                     for c in categories),
                   by_unit=by_unit, by_week=by_week)


class StatsService:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(CHINA).date()

    def default_period(self) -> Period:
        today = self.today()
        return Period(today.replace(day=1), today)

    def figures(self, period: Period) -> Figures:
        facts = campaign_facts(self.engine, start=period.start, end=period.end)
        return figures_from(facts, period)
