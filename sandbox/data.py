"""The sandbox catalogue: ``generate(seed)`` builds every shop and listing with its ground truth.

Deterministic from the seed (one ``random.Random(seed)``, never a set's
iteration order). The mix is fixed — 345 listings in 61 shops, 114 violating —
so any seed gives the same shares; the seed picks names, texts and disguises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from random import Random
from typing import Any

from sandbox import writers
from sandbox.drafts import Draft, render
from sandbox.evasions import EVASION_KINDS
from sandbox.products import product
from sandbox.registry import REGISTRY
from sandbox.shops import ShopPlan, build_shops

DEFAULT_SEED = 20231117
_SHAPES = ("circle", "box", "bottle", "triangle", "cup", "stripes")

# What the agency and report-service listings claim on top of offering a service.
_AGENCY_HOOKS: tuple[tuple[tuple[str, ...], int], ...] = (
    ((), 14), (("fake",), 11), (("false",), 11), (("fake", "false"), 6), (("national",), 8),
    (("national", "false"), 3))
_REPORT_HOOKS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("fake",), 5), (("false",), 3), (("fake", "false"), 2), ((), 2))
_PRODUCT_MODES = (("report", 40), ("cert", 30), ("none", 14), ("missing_claim", 11),
                  ("missing_partial", 9), ("national_missing", 5), ("national_complete", 3))
# Labs and certification bodies: three of each make one banned claim.
_LAB_CLAIMS = (("fake", 1), ("false", 2))
_BODY_CLAIMS = (("fake", 1), ("false", 2))
_HOSTILE = (
    ("agency", "title", "<script>alert(1)</script>"),
    ("plain", "description", "<img src=x onerror=alert(1)>实拍图见详情。"),
    ("report_seller", "description", '样本预览：<a href="javascript:alert(1)">点击查看</a>'),
    ("product", "title_start", '=HYPERLINK("http://example.invalid/","点击领券")'),
    ("lab", "description", '"><script>alert(document.cookie)</script>'),
    ("plain", "title", "<b onmouseover=alert(1)>爆款</b>"),
)


@dataclass(frozen=True, slots=True)
class Shop:
    """A shop as its page shows it."""

    id: str
    name: str
    kind: str
    credit_code: str | None
    license_text: str | None


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """How to draw one listing image (the server draws it on demand)."""

    name: str
    background: tuple[int, int, int]
    foreground: tuple[int, int, int]
    shape: str


@dataclass(frozen=True, slots=True)
class SandboxListing:
    """One listing with its ground truth (``categories``, ``evasions``, ``kind``)."""

    id: str
    shop_id: str
    title: str
    description: str  # paragraphs separated by "\n"
    price: str
    images: tuple[str, ...]  # paths under /img/
    tags: tuple[str, ...]  # search tags; never shown on a page
    categories: frozenset[str]
    evasions: tuple[str, ...]
    kind: str
    hostile: bool = False

    @property
    def paragraphs(self) -> list[str]:
        return self.description.split("\n")


class Catalog:
    """Shops and listings of one seed, with the look-ups the server needs."""

    def __init__(self, seed: int, shops: Iterable[Shop], listings: Iterable[SandboxListing],
                 images: Iterable[ImageSpec]) -> None:
        self.seed = seed
        self.shops = tuple(shops)
        self.listings = tuple(listings)
        self.images = {spec.name: spec for spec in images}
        self._shops = {shop.id: shop for shop in self.shops}
        self._listings = {listing.id: listing for listing in self.listings}
        self._by_shop: dict[str, list[SandboxListing]] = {}
        for listing in self.listings:
            self._by_shop.setdefault(listing.shop_id, []).append(listing)
        self._haystacks = [
            (listing, "\n".join((listing.title, listing.description, *listing.tags)).casefold())
            for listing in self.listings]

    def listing(self, listing_id: str) -> SandboxListing | None:
        return self._listings.get(listing_id)

    def shop(self, shop_id: str) -> Shop | None:
        return self._shops.get(shop_id)

    def shop_listings(self, shop_id: str) -> list[SandboxListing]:
        return list(self._by_shop.get(shop_id, ()))

    def search(self, keyword: str) -> list[SandboxListing]:
        """Listings whose title, description or tags contain ``keyword`` (case-insensitive)."""
        needle = keyword.strip().casefold()
        return [listing for listing, hay in self._haystacks if needle in hay]

    def truth(self) -> dict[str, dict[str, Any]]:
        """Ground truth by listing id, as ``/_truth.json`` serves it."""
        return {listing.id: {"categories": sorted(listing.categories),
                             "evasions": list(listing.evasions), "kind": listing.kind}
                for listing in self.listings}


def _deal(rng: Random, quotas: Iterable[tuple[Any, int]]) -> list[Any]:
    """Each value repeated by its quota, shuffled: fixed counts, seed-chosen placement."""
    values = [value for value, count in quotas for _ in range(count)]
    rng.shuffle(values)
    return values


def _drafts(rng: Random, shops: list[ShopPlan]) -> list[Draft]:
    agency_hooks = _deal(rng, _AGENCY_HOOKS)
    report_hooks = _deal(rng, _REPORT_HOOKS)
    modes = _deal(rng, _PRODUCT_MODES)
    labs = [s for s in shops if s.kind == "lab"]
    bodies = [s for s in shops if s.kind == "cert_body"]
    lab_claims = _deal(rng, (*_LAB_CLAIMS, (None, sum(s.listings for s in labs) - 3)))
    body_claims = _deal(rng, (*_BODY_CLAIMS, (None, sum(s.listings for s in bodies) - 3)))
    lab_names = [s.name for s in labs]
    body_names = [b.name for b in REGISTRY]
    drafts: list[Draft] = []
    for index, shop in enumerate(shops):
        for _ in range(shop.listings):
            if shop.kind == "agency":
                draft = writers.agency(rng, index, shop, agency_hooks.pop())
            elif shop.kind == "report_sale":
                draft = writers.report_sale(rng, index, shop)
            elif shop.kind == "report_service":
                draft = writers.report_service(rng, index, shop, report_hooks.pop())
            elif shop.kind == "lab":
                draft = writers.lab(rng, index, shop, lab_claims.pop())
            elif shop.kind == "cert_body":
                draft = writers.cert_body(rng, index, shop, body_claims.pop())
            elif shop.kind == "product":
                mode = modes.pop() if shop.code_valid else rng.choice(("report", "cert"))
                draft = product(rng, index, shop, mode, lab_names, body_names)
            else:
                draft = writers.plain(rng, index, shop)
            drafts.append(draft)
    return drafts


def _make_hostile(rng: Random, drafts: list[Draft]) -> None:
    """Put script tags, event handlers, javascript: links and a formula into a few listings."""
    for kind, where, payload in _HOSTILE:
        candidates = [d for d in drafts if d.kind == kind and not d.hostile
                      and (kind != "product" or not d.categories)]
        draft = rng.choice(candidates)
        draft.hostile = True
        if where == "title":
            draft.title = [*draft.title, " ", payload]
        elif where == "title_start":
            draft.title = [payload, " ", *draft.title]
        else:
            draft.paragraphs.insert(1, [payload])


def _choose_evasions(rng: Random, drafts: list[Draft]) -> None:
    """Disguise about half of the violating listings, every kind at least three times."""
    violating = [d for d in drafts if d.categories]
    candidates = [d for d in violating if d.evadable()]
    rng.shuffle(candidates)
    target = min(len(violating) // 2, len(candidates))
    first: dict[int, str] = {}  # id(draft) -> its main evasion
    used: Counter[str] = Counter()
    # Rare kinds (numeral needs "N天") get their three listings before common ones fill up.
    by_rarity = sorted(EVASION_KINDS, key=lambda k: sum(k in d.evadable() for d in candidates))
    for kind in by_rarity:
        for draft in candidates:
            if used[kind] >= 3:
                break
            if id(draft) not in first and kind in draft.evadable():
                first[id(draft)] = kind
                used[kind] += 1
    for draft in candidates:
        if len(first) >= target:
            break
        if id(draft) not in first:
            kind = min(draft.evadable(), key=lambda k: (used[k], rng.random()))
            first[id(draft)] = kind
            used[kind] += 1
    for draft in drafts:
        if id(draft) not in first:
            continue
        wanted = [first[id(draft)]]
        if rng.random() < 0.3:
            kinds = draft.evadable()
            rest = [k for k in kinds if k != wanted[0] and {k, wanted[0]} != {"pinyin", "initials"}]
            if wanted[0] in ("pinyin", "initials") and "case" not in rest:
                rest.append("case")
            if rest:
                second = min(rest, key=lambda k: (used[k], rng.random()))
                used[second] += 1
                wanted.append(second)
        draft.wanted = tuple(wanted)


def generate(seed: int = DEFAULT_SEED) -> Catalog:
    """The whole sandbox for ``seed``: same seed, same catalogue, byte for byte."""
    rng = Random(seed)
    plans = build_shops(rng)
    drafts = _drafts(rng, plans)
    _make_hostile(rng, drafts)
    _choose_evasions(rng, drafts)

    shop_order = list(range(len(plans)))
    rng.shuffle(shop_order)
    shop_ids = {index: f"shop-{n:04d}" for n, index in enumerate(shop_order, start=1)}
    shops = sorted((Shop(shop_ids[i], p.name, p.public_kind, p.credit_code, p.license_text)
                    for i, p in enumerate(plans)), key=lambda s: s.id)

    rng.shuffle(drafts)
    listings: list[SandboxListing] = []
    images: list[ImageSpec] = []
    for n, draft in enumerate(drafts, start=1):
        listing_id = f"sb-{n:06d}"
        title, applied = render(draft.title, draft, rng)
        paragraphs = [render(p, draft, rng) for p in draft.paragraphs]
        for _, used in paragraphs:
            applied |= used
        names = [f"{listing_id}-{i}" for i in range(1, draft.images + 1)]
        images += [ImageSpec(name, draft.color, _contrast(rng), rng.choice(_SHAPES))
                   for name in names]
        listings.append(SandboxListing(
            id=listing_id, shop_id=shop_ids[draft.shop], title=title,
            description="\n".join(text for text, _ in paragraphs),
            price=draft.price, images=tuple(f"/img/{name}.png" for name in names),
            tags=tuple(dict.fromkeys(draft.tags)), categories=frozenset(draft.categories),
            evasions=tuple(k for k in EVASION_KINDS if k in applied), kind=draft.kind,
            hostile=draft.hostile))
    # Listings whose certificate evidence is a picture (imported here: they build
    # SandboxListing and ImageSpec of this module).
    from sandbox.cert_listings import certificate_listings
    extra, pictures = certificate_listings(seed, plans, shop_ids, first=len(listings) + 1)
    return Catalog(seed, shops, [*listings, *extra], [*images, *pictures])


def _contrast(rng: Random) -> tuple[int, int, int]:
    return (rng.randint(20, 120), rng.randint(20, 120), rng.randint(20, 120))
