"""The single-page-app platform style: its HTML shells and the JSON API they are fed by."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.data import Catalog, generate
from tests.conftest import SANDBOX_SEED


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return generate(SANDBOX_SEED)


@pytest.fixture(scope="module")
def client(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def test_shells_hold_no_listing_content(client: httpx.Client, catalog: Catalog) -> None:
    listing = catalog.listings[0]
    for path in ("/spa/", "/spa/search?q=认证", f"/spa/item/{listing.id}", "/spa/item/nope"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert '<main id="app"></main>' in response.text
        assert '<script src="/static/spa.js"></script>' in response.text
        assert listing.title not in response.text
    script = client.get("/static/spa.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "textContent" in script.text and "innerHTML" not in script.text


def test_search_api_pages_through_the_same_results_as_html_search(client: httpx.Client,
                                                                  catalog: Catalog) -> None:
    expected = [item.id for item in catalog.search("检测报告")]
    found: list[str] = []
    page = 1
    while True:
        data = client.get("/api/search", params={"q": "检测报告", "page": page}).json()
        assert data["page"] == page and data["total"] == len(expected)
        found += [item["id"] for item in data["items"]]
        assert all(item["url"] == f"/spa/item/{item['id']}" for item in data["items"])
        if not data["has_more"]:
            break
        assert len(data["items"]) == 20
        page += 1
    assert found == expected
    empty = client.get("/api/search", params={"q": "没有这个词"}).json()
    assert empty == {"items": [], "page": 1, "total": 0, "has_more": False}


def test_item_api_matches_the_catalogue(client: httpx.Client, catalog: Catalog) -> None:
    listing = next(item for item in catalog.listings if item.images)
    shop = catalog.shop(listing.shop_id)
    assert shop is not None
    data = client.get(f"/api/item/{listing.id}").json()
    assert data == {
        "id": listing.id, "title": listing.title, "description": listing.description,
        "price": listing.price, "images": list(listing.images),
        "url": f"/spa/item/{listing.id}",
        "seller": {"id": shop.id, "name": shop.name, "credit_code": shop.credit_code,
                   "license_text": shop.license_text}}
    missing = client.get("/api/item/sb-999999")
    assert missing.status_code == 404 and missing.json() == {"error": "not_found"}


def test_hostile_text_reaches_the_api_verbatim(client: httpx.Client, catalog: Catalog) -> None:
    hostile = next(item for item in catalog.listings if "<script>" in item.title)
    data = client.get(f"/api/item/{hostile.id}").json()
    assert data["title"] == hostile.title  # JSON is data; the page script shows it as text
