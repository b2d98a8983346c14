"""Queue filters from a query string and back: the same parameters drive the queue page,
the lead page's previous/next, bulk actions, exports and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from jingwang.records import Category
from review.rendering import CHINA
from store.enums import LeadStatus
from store.review_queries import SORTS, QueueFilter

PER_PAGE = 25
FILTER_KEYS = ("status", "category", "platform", "unit", "min_score", "from", "to", "q",
               "assignee", "escalated", "sort")


@dataclass(frozen=True, slots=True)
class FilterForm:
    """The filter as the form shows it, plus the QueueFilter it means."""

    query: QueueFilter
    values: dict[str, str] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()

    def querystring(self, **extra: str | int) -> str:
        """The filter (and ``extra``) as a query string, without empty values."""
        pairs: list[tuple[str, str]] = [("status", s) for s in self.statuses]
        pairs += [(k, v) for k, v in self.values.items() if v and k != "status"]
        pairs += [(k, str(v)) for k, v in extra.items() if v not in ("", None)]
        return urlencode(pairs)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA)


def parse_filter(params: Mapping[str, str], statuses: Sequence[str], *,
                 me: int | None) -> FilterForm:
    """Unknown or malformed values are dropped rather than refused: a filter is a view."""
    known_status = tuple(s for s in statuses if s in {x.value for x in LeadStatus})
    values = {k: (params.get(k) or "").strip()[:200] for k in FILTER_KEYS if k != "status"}
    if values["category"] not in {c.value for c in Category}:
        values["category"] = ""
    try:
        min_score = float(values["min_score"]) if values["min_score"] else None
    except ValueError:
        min_score, values["min_score"] = None, ""
    start, end = _day(values["from"]), _day(values["to"])
    if start is None:
        values["from"] = ""
    if end is None:
        values["to"] = ""
    if values["sort"] not in SORTS:
        values["sort"] = ""
    assignee = values["assignee"]
    if assignee not in ("me", "none"):
        values["assignee"] = ""
    if values["escalated"] != "1":
        values["escalated"] = ""
    query = QueueFilter(
        statuses=tuple(LeadStatus(s) for s in known_status),
        category=values["category"] or None, platform=values["platform"] or None,
        unit=values["unit"] or None, min_score=min_score,
        created_from=china_midnight(start) if start else None,
        created_to=china_midnight(end + timedelta(days=1)) if end else None,
        text=values["q"] or None,
        assignee_id=me if assignee == "me" else None, unassigned=assignee == "none",
        escalated=values["escalated"] == "1", sort=values["sort"] or "newest")
    return FilterForm(query=query, values=values, statuses=known_status)


def page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100_000))
    except ValueError:
        return 1
