"""The generated catalogue: deterministic, the agreed mix, and labels that follow the spec."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from jingwang.records import Category
from sandbox import phrases
from sandbox.data import Catalog, generate
from sandbox.evasions import EVASION_KINDS
from sandbox.identifiers import credit_code_valid
from sandbox.registry import REGISTRY
from tests.conftest import ROOT, SANDBOX_SEED

CATEGORIES = {c.value for c in Category}
DEFAULT_KEYWORDS = ("认证", "检测报告", "证书", "3C")
_CNCA = re.compile(r"CNCA-RF?-\d{4}-\d{2,4}(?!\d)")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return generate(SANDBOX_SEED)


def test_same_seed_gives_the_same_catalogue(catalog: Catalog) -> None:
    again = generate(SANDBOX_SEED)
    assert again.listings == catalog.listings
    assert again.shops == catalog.shops
    assert again.images == catalog.images


def test_a_different_seed_gives_a_different_catalogue(catalog: Catalog) -> None:
    other = generate(SANDBOX_SEED + 1)
    assert [x.title for x in other.listings] != [x.title for x in catalog.listings]
    assert other.truth() != catalog.truth()


def _digest_in_subprocess(hash_seed: str) -> str:
    code = ("import hashlib, json; from sandbox.data import generate; c = generate(7); "
            "print(hashlib.sha256(json.dumps([[l.id, l.title, l.description, l.shop_id, "
            "sorted(l.categories), l.evasions] for l in c.listings], ensure_ascii=False)"
            ".encode()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONHASHSEED": hash_seed, "PATH": ""}, check=True)
    return out.stdout.strip()


def test_generation_does_not_depend_on_the_process_hash_seed() -> None:
    # The daemon and the test server generate in different processes: the catalogue
    # must not depend on set iteration order.
    local = generate(7)
    expected = hashlib.sha256(json.dumps(
        [[x.id, x.title, x.description, x.shop_id, sorted(x.categories), list(x.evasions)]
         for x in local.listings], ensure_ascii=False).encode()).hexdigest()
    assert _digest_in_subprocess("1") == expected
    assert _digest_in_subprocess("2") == expected


def test_size_and_violating_share(catalog: Catalog) -> None:
    assert len(catalog.listings) >= 330
    assert 55 <= len(catalog.shops) <= 65
    violating = [x for x in catalog.listings if x.categories]
    assert 0.28 <= len(violating) / len(catalog.listings) <= 0.40
    # Roughly half of the violating listings use plain phrases.
    plain = [x for x in violating if not x.evasions]
    assert 0.35 <= len(plain) / len(violating) <= 0.65


@pytest.mark.parametrize("seed", [SANDBOX_SEED, 1, 2024])
def test_every_category_and_evasion_is_well_represented(seed: int) -> None:
    listings = generate(seed).listings
    categories = Counter(c for x in listings for c in x.categories)
    evasions = Counter(e for x in listings for e in x.evasions)
    assert set(categories) == CATEGORIES
    assert min(categories.values()) >= 10, categories
    assert set(evasions) == set(EVASION_KINDS)
    assert min(evasions.values()) >= 3, evasions


def test_records_are_well_formed(catalog: Catalog) -> None:
    ids = [x.id for x in catalog.listings]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"sb-\d{6}", i) for i in ids)
    assert all(re.fullmatch(r"shop-\d{4}", s.id) for s in catalog.shops)
    shop_ids = {s.id for s in catalog.shops}
    kinds = {"agency", "report_seller", "product", "lab", "cert_body", "plain"}
    for listing in catalog.listings:
        assert listing.shop_id in shop_ids
        assert listing.categories <= CATEGORIES
        assert list(listing.evasions) == [k for k in EVASION_KINDS if k in listing.evasions]
        assert listing.kind in kinds
        assert re.fullmatch(r"\d+\.\d\d", listing.price)
        assert 0 <= len(listing.images) <= 2
        assert all(p.removeprefix("/img/").removesuffix(".png") in catalog.images
                   for p in listing.images)
        assert not listing.evasions or listing.categories  # only violating text is disguised
    assert set(Counter(x.kind for x in catalog.listings)) == kinds


def test_every_violating_listing_carries_a_default_keyword(catalog: Catalog) -> None:
    for listing in catalog.listings:
        if listing.categories:
            hay = "\n".join((listing.title, listing.description, *listing.tags)).casefold()
            assert any(k.casefold() in hay for k in DEFAULT_KEYWORDS), listing


def test_truth_matches_the_listings(catalog: Catalog) -> None:
    truth = catalog.truth()
    assert list(truth) == [x.id for x in catalog.listings]
    sample = catalog.listings[0]
    assert truth[sample.id] == {"categories": sorted(sample.categories),
                                "evasions": list(sample.evasions), "kind": sample.kind}
    assert json.loads(json.dumps(truth)) == truth


def _phrases() -> set[str]:
    banks = (phrases.FAKE_CERT_SERVICE, phrases.FAKE_REPORT_SERVICE, phrases.FAKE_SALE,
             phrases.FALSE_CERT, phrases.FALSE_REPORT, phrases.NATIONAL_SERVICE,
             phrases.NATIONAL_PRODUCT)
    return {p.replace("{n}", str(n)) for bank in banks for p in bank for n in range(1, 8)}


@pytest.mark.parametrize("seed", [SANDBOX_SEED, 3])
def test_clean_listings_say_nothing_banned(seed: int) -> None:
    """Outside the spec's sanctioned negations, no clean listing shows a banned phrase."""
    banned = _phrases()
    allowed_national = ("中国强制性产品认证", "中国有机产品认证", "中国绿色产品认证",
                        "中国环境标志", "中国质量认证中心", "全国包邮")
    for listing in generate(seed).listings:
        if listing.categories:
            continue
        text = f"{listing.title}\n{listing.description}"
        for negation in phrases.NEGATIONS:
            text = text.replace(negation, "")
        assert not [p for p in banned if p in text], listing
        for name in allowed_national:
            text = text.replace(name, "")
        assert not re.search("中国|国家|全国|中华", text), listing


def test_evasions_show_in_the_text(catalog: Catalog) -> None:
    marks = {
        "invisible": re.compile("[\u200b\u200c\u200d\u2060\ufeff]"),
        "width": re.compile("[\uff01-\uff5e]"),
        "numeral": re.compile(r"[一两三四五六七①②③④⑤⑥⑦壹贰叁肆伍陆柒][\W_]{0,3}天"),
        "initials": re.compile("[a-z]{4}", re.IGNORECASE),
    }
    for listing in catalog.listings:
        text = f"{listing.title}\n{listing.description}"
        for kind, mark in marks.items():
            if kind in listing.evasions:
                assert mark.search(text), (kind, listing)


def test_identifier_labels_follow_what_shops_show(catalog: Catalog) -> None:
    registry = {b.approval_no: b.name for b in REGISTRY}
    by_shop: dict[str, list[str]] = {}
    for listing in catalog.listings:
        by_shop.setdefault(listing.shop_id, []).append(listing.id)
    labels = {x.id: x.categories for x in catalog.listings}
    seen = Counter[str]()
    for shop in catalog.shops:
        shown = _CNCA.findall(shop.license_text or "")
        borrowed = any(n in registry and registry[n] != shop.name for n in shown)
        malformed = "CNCA" in (shop.license_text or "") and not shown
        bad_code = shop.credit_code is not None and not credit_code_valid(shop.credit_code)
        own = any(registry.get(n) == shop.name for n in shown)
        invalid = {"identifier_invalid" in labels[i] for i in by_shop[shop.id]}
        if borrowed or malformed or bad_code:
            assert invalid == {True}, shop
            seen.update(["borrowed"] * borrowed + ["malformed"] * malformed
                        + ["bad_code"] * bad_code)
        else:
            assert invalid == {False}, shop
        if own:
            seen["own"] += 1
            assert shop.credit_code and credit_code_valid(shop.credit_code)
    assert seen["borrowed"] >= 2 and seen["malformed"] >= 1 and seen["bad_code"] >= 2
    assert seen["own"] >= 5


def test_hostile_listings_are_present_and_labelled_by_their_other_text(catalog: Catalog,
                                                                        ) -> None:
    hostile = [x for x in catalog.listings if x.hostile]
    text = "\n".join(f"{x.title}\n{x.description}" for x in hostile)
    assert len(hostile) >= 5
    for payload in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                    "javascript:", "<b onmouseover="):
        assert payload in text
    assert any(x.title.startswith("=HYPERLINK(") for x in hostile)
    assert {bool(x.categories) for x in hostile} == {True, False}
