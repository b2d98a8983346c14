"""Try every selector of a profile on one fetched page, to debug a profile against a live site."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crawler.events import Blocked, ParseFailure, Removed
from crawler.jsonpath import find
from crawler.parse import Page, SearchPage, parse_detail, parse_search
from crawler.profiles import JsonApi, ListSpec, Profile
from jingwang.records import Capture, Listing

PageKind = Literal["search", "shop", "detail"]


@dataclass(frozen=True, slots=True)
class SelectorResult:
    """What one profile key's selector extracted from the page (empty: nothing)."""

    key: str  # e.g. "search.item", "detail.fields.title"
    selector: str
    values: tuple[str, ...]
    required: bool  # finding nothing here makes the page a parse failure


@dataclass(frozen=True, slots=True)
class PageCheck:
    kind: PageKind
    results: tuple[SelectorResult, ...]
    outcome: SearchPage | Listing | ParseFailure | Removed | Blocked

    @property
    def ok(self) -> bool:
        return not isinstance(self.outcome, ParseFailure | Blocked)


def guess_kind(profile: Profile, capture: Capture) -> PageKind:
    """"search" or "shop" if that section's item or empty selector matches, else "detail"."""
    page = Page(capture)
    for kind, spec in (("search", profile.search), ("shop", profile.shop)):
        if spec is None:
            continue
        if isinstance(spec.pagination, JsonApi):
            if page.is_json and find(page.json, spec.item):
                return "search" if kind == "search" else "shop"
        elif page.has(spec.item) or page.has(spec.empty):
            return "search" if kind == "search" else "shop"
    return "detail"


def _list_results(spec: ListSpec, page: Page, profile: Profile) -> list[SelectorResult]:
    where = spec.where()
    results: list[SelectorResult] = []
    if isinstance(spec.pagination, JsonApi):
        found = find(page.json, spec.item) if page.is_json else []
        items = found[0] if len(found) == 1 and isinstance(found[0], list) else found
        results.append(SelectorResult(f"{where}.item", f"json:{spec.item}", tuple(
            f"{len(items)} 项" for _ in items[:1]), required=True))
        links = [url for item in items
                 if (url := page.json_link(item, spec.link, profile.base_url)) is not None]
        results.append(SelectorResult(f"{where}.link", spec.link.describe(), tuple(links),
                                      required=True))
        return results
    nodes = page.tree.css(spec.item)
    results.append(SelectorResult(f"{where}.item", spec.item, tuple(
        f"{len(nodes)} 项：" + (node.text(deep=True, separator=" ").strip() or "(空)")
        for node in nodes[:1]), required=True))
    links = [url for node in nodes if (url := page.link(node, spec.link)) is not None]
    results.append(SelectorResult(f"{where}.link", spec.link.describe(), tuple(links),
                                  required=True))
    if spec.empty is not None:
        empty = page.tree.css_first(spec.empty)
        results.append(SelectorResult(f"{where}.empty", spec.empty, () if empty is None else (
            empty.text(deep=True, separator=" ").strip() or "(存在)",), required=False))
    if spec.next is not None:
        next_url = page.link(page.tree, spec.next)
        results.append(SelectorResult(f"{where}.next", spec.next.describe(),
                                      () if next_url is None else (next_url,), required=False))
    return results


def _block_results(profile: Profile, page: Page) -> list[SelectorResult]:
    results = []
    for selector in profile.blocks.selectors:
        node = page.tree.css_first(selector)
        results.append(SelectorResult("blocks.selectors", selector, () if node is None else (
            node.text(deep=True, separator=" ").strip() or "(存在)",), required=False))
    return results


def check_page(profile: Profile, capture: Capture, kind: PageKind) -> PageCheck:
    """Run the profile's search, shop or detail selectors on ``capture``, one result per key."""
    page = Page(capture)
    results: list[SelectorResult] = []
    outcome: SearchPage | Listing | ParseFailure | Removed | Blocked
    if kind in ("search", "shop"):
        spec = profile.search if kind == "search" else profile.shop
        if spec is None:
            outcome = ParseFailure(capture.url, (kind,), f"profile has no {kind} section")
            return PageCheck(kind, (), outcome)
        results.extend(_list_results(spec, page, profile))
        outcome = parse_search(profile, capture, spec)
    else:
        detail = profile.detail
        required = set(detail.required_fields())
        for name, extract in detail.fields.items():
            results.append(SelectorResult(f"detail.fields.{name}", extract.describe(),
                                          tuple(page.values(name, extract)),
                                          required=name in required))
        if detail.removed is not None:
            removed = page.tree.css_first(detail.removed)
            results.append(SelectorResult("detail.removed", detail.removed, () if removed is None
                                          else (removed.text(deep=True).strip() or "(存在)",),
                                          required=False))
        outcome = parse_detail(profile, capture, platform=profile.name)
    results.extend(_block_results(profile, page))
    return PageCheck(kind, tuple(results), outcome)
