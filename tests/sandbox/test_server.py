"""The sandbox over real HTTP, checked against the shared HTML contract."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from protego import Protego
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode

from sandbox.data import Catalog, SandboxListing, generate
from tests.conftest import SANDBOX_SEED

DEFAULT_KEYWORDS = ("认证", "检测报告", "证书", "3C")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return generate(SANDBOX_SEED)


@pytest.fixture(scope="module")
def client(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def _one(node: HTMLParser | LexborNode, selector: str) -> LexborNode:
    found = node.css_first(selector)
    assert found is not None, f"missing {selector}"
    return found


def _page(client: httpx.Client, keyword: str, page: int) -> HTMLParser:
    response = client.get("/search", params={"q": keyword, "page": page})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return HTMLParser(response.text)


def _crawl(client: httpx.Client, keyword: str) -> list[str]:
    """Every listing id a keyword reaches, following ``a.next`` like the crawler does."""
    ids: list[str] = []
    url: str | None = f"/search?q={keyword}&page=1"
    while url:
        tree = HTMLParser(client.get(url).text)
        ids += [str(li.attributes["data-id"]) for li in tree.css("ul.results li.item")]
        nxt = tree.css_first("a.next")
        url = str(nxt.attributes["href"]) if nxt is not None else None
    return ids


def test_search_pages_hold_twenty_results_and_link_the_next(client: httpx.Client,
                                                            catalog: Catalog) -> None:
    expected = [x.id for x in catalog.search("认证")]
    assert len(expected) > 40
    first = _page(client, "认证", 1)
    rows = first.css("ul.results li.item")
    assert len(rows) == 20
    assert [r.attributes["data-id"] for r in rows] == expected[:20]
    row = rows[0]
    listing = catalog.listing(expected[0])
    assert listing is not None
    assert _one(row, "a.item-link").attributes["href"] == f"/item/{listing.id}"
    assert _one(row, "a.item-link").text() == listing.title
    assert _one(row, "span.price").text() == f"¥{listing.price}"
    assert _one(row, "a.shop-link").attributes["href"] == f"/shop/{listing.shop_id}"
    href = str(_one(first, "a.next").attributes["href"])
    assert parse_qs(urlsplit(href).query) == {"q": ["认证"], "page": ["2"]}

    crawled = _crawl(client, "认证")
    assert crawled == expected
    last = (len(expected) - 1) // 20 + 1
    final = _page(client, "认证", last)
    assert final.css_first("a.next") is None
    assert 1 <= len(final.css("li.item")) <= 20
    past = _page(client, "认证", last + 1)
    assert past.css("li.item") == []
    assert _one(past, "div.empty").text() == "没有找到相关商品"


def test_search_matches_case_insensitively_and_reports_empty_results(
        client: httpx.Client, catalog: Catalog) -> None:
    upper = [li.attributes["data-id"] for li in _page(client, "ISO", 1).css("li.item")]
    lower = [li.attributes["data-id"] for li in _page(client, "iso", 1).css("li.item")]
    assert upper and upper == lower
    nothing = _page(client, "没有这种商品zzz", 1)
    assert nothing.css("li.item") == [] and nothing.css_first("div.empty") is not None
    assert client.get("/search", params={"q": "认证", "page": 0}).status_code == 422


def test_default_keywords_reach_every_violating_listing(client: httpx.Client,
                                                        catalog: Catalog) -> None:
    reached: set[str] = set()
    for keyword in DEFAULT_KEYWORDS:
        reached |= set(_crawl(client, keyword))
    violating = {x.id for x in catalog.listings if x.categories}
    assert violating <= reached, sorted(violating - reached)[:10]
    evaded = {x.id for x in catalog.listings if x.evasions}
    assert evaded and evaded <= reached


def _with_seller_details(catalog: Catalog) -> SandboxListing:
    for listing in catalog.listings:
        shop = catalog.shop(listing.shop_id)
        if shop and shop.credit_code and shop.license_text and len(listing.images) == 2:
            return listing
    raise AssertionError("no listing whose shop shows a credit code and a licence")


def test_item_page_follows_the_contract(client: httpx.Client, catalog: Catalog) -> None:
    listing = _with_seller_details(catalog)
    shop = catalog.shop(listing.shop_id)
    assert shop is not None
    response = client.get(f"/item/{listing.id}")
    assert response.status_code == 200
    tree = HTMLParser(response.text)
    assert _one(tree, "meta[name=listing-id]").attributes["content"] == listing.id
    assert _one(tree, "h1.title").text() == listing.title
    assert [p.text() for p in tree.css("div.desc p")] == listing.description.split("\n")
    assert _one(tree, "span.price").text() == f"¥{listing.price}"
    assert [img.attributes["src"] for img in tree.css("img.gallery-img")] == list(listing.images)
    seller = _one(tree, "div.seller")
    assert _one(seller, "a.shop-name").text() == shop.name
    assert _one(seller, "a.shop-name").attributes["href"] == f"/shop/{shop.id}"
    assert _one(seller, "span.credit-code").text() == shop.credit_code
    assert _one(seller, "div.license").text() == shop.license_text


def test_seller_details_appear_only_when_the_shop_shows_them(client: httpx.Client,
                                                             catalog: Catalog) -> None:
    bare = next(x for x in catalog.listings
                if (s := catalog.shop(x.shop_id)) and not s.credit_code and not s.license_text)
    tree = HTMLParser(client.get(f"/item/{bare.id}").text)
    assert tree.css_first("div.seller a.shop-name") is not None
    assert tree.css_first("div.seller span.credit-code") is None
    assert tree.css_first("div.seller div.license") is None


def test_hostile_text_is_escaped_everywhere(client: httpx.Client, catalog: Catalog) -> None:
    hostile = [x for x in catalog.listings if x.hostile]
    assert len(hostile) >= 5
    for listing in hostile:
        html = client.get(f"/item/{listing.id}").text
        assert "<script" not in html
        assert "<img src=x" not in html and "<b onmouseover" not in html
        assert 'href="javascript:' not in html
        tree = HTMLParser(html)
        assert _one(tree, "h1.title").text() == listing.title  # escaped, not dropped
        assert "\n".join(p.text() for p in tree.css("div.desc p")) == listing.description
        shop_html = client.get(f"/shop/{listing.shop_id}").text
        assert "<script" not in shop_html
    for word in ("script", "onerror", "javascript", "HYPERLINK"):
        results = client.get("/search", params={"q": word}).text
        assert "<script" not in results and "<img src=x" not in results
        assert HTMLParser(results).css("li.item"), word


def test_unknown_listing_is_a_removed_page(client: httpx.Client) -> None:
    response = client.get("/item/sb-999999")
    assert response.status_code == 404
    assert _one(HTMLParser(response.text), "div.removed").text() == "该商品已下架或不存在"
    assert client.get("/item/%3Cscript%3E").status_code == 404


def test_shop_page_lists_the_shop(client: httpx.Client, catalog: Catalog) -> None:
    shop = next(s for s in catalog.shops if s.credit_code and s.license_text)
    tree = HTMLParser(client.get(f"/shop/{shop.id}").text)
    assert _one(tree, "h1.shop-name").text() == shop.name
    assert _one(tree, "span.credit-code").text() == shop.credit_code
    assert _one(tree, "div.license").text() == shop.license_text
    ids = [li.attributes["data-id"] for li in tree.css("ul.results li.item")]
    assert ids == [x.id for x in catalog.shop_listings(shop.id)] and ids
    assert client.get("/shop/shop-9999").status_code == 404


def test_images_are_served_as_stable_pngs(client: httpx.Client, catalog: Catalog) -> None:
    path = next(p for x in catalog.listings for p in x.images)
    first, second = client.get(path), client.get(path)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.content.startswith(b"\x89PNG") and first.content == second.content
    assert client.get("/img/sb-999999-1.png").status_code == 404


def test_robots_allows_everything(client: httpx.Client) -> None:
    robots = Protego.parse(client.get("/robots.txt").text)
    assert robots.can_fetch("/search?q=认证", "jingwang")
    assert robots.can_fetch("/item/sb-000001", "*")


def test_truth_endpoint_matches_generate(client: httpx.Client, catalog: Catalog) -> None:
    payload = client.get("/_truth.json").json()
    assert payload == {"seed": SANDBOX_SEED, "listings": catalog.truth()}


def test_home_page_links_keywords_and_shops(client: httpx.Client, catalog: Catalog) -> None:
    tree = HTMLParser(client.get("/").text)
    hrefs = {str(a.attributes.get("href")) for a in tree.css("a")}
    assert {f"/shop/{s.id}" for s in catalog.shops} <= hrefs
    assert any(h.startswith("/search?q=") for h in hrefs)
