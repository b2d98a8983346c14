"""The sandbox's second platform style: a JavaScript single-page app fed by a JSON API.

- ``GET /spa/search?q=KEYWORD`` and ``GET /spa/item/ID`` — an HTML shell whose
  script (``/static/spa.js``) builds the page: result cards
  (``div.card[data-id] > a.card-link``) that load 20 more on each scroll to the
  bottom (infinite scroll), ``div.empty`` for no results and ``div.end`` at the
  end; a listing as ``article.listing[data-id]`` with ``h1.title``,
  ``p.price``, ``img.gallery-img``, ``div.desc`` and ``div.seller``
  (``a.shop-name``, ``span.credit-code``, ``div.license``); ``div.removed``
  (该商品已下架或不存在) when the API says 404. Nothing is in the HTML itself.
- ``GET /api/search?q=KEYWORD&page=N`` — ``{"items": [{"id", "title", "price",
  "url", "shop": {"id", "name"}}], "page", "total", "has_more"}``.
- ``GET /api/item/ID`` — ``{"id", "title", "description", "price", "images",
  "url", "seller": {"id", "name", "credit_code", "license_text"}}``; 404 with
  ``{"error": "not_found"}`` for an unknown or removed listing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from sandbox.data import Catalog, SandboxListing
from sandbox.faults import Faults, current_listing

PAGE_SIZE = 20
SCRIPT = Path(__file__).resolve().parent / "static" / "spa.js"

_SHELL = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>沙箱商城 · 移动版</title>
<style>
body{margin:0;font-family:"Noto Sans CJK SC","PingFang SC",sans-serif;background:#f5f5f5;color:#222}
header{background:#ff5000;color:#fff;padding:10px 16px}
header a{color:#fff;font-weight:bold;text-decoration:none}
header form{display:inline-flex;margin-left:16px}
main{max-width:720px;margin:12px auto;background:#fff;padding:12px 20px;border-radius:8px}
.card{min-height:72px;border-bottom:1px solid #eee;padding:12px 0;display:flex;
 flex-direction:column}
.card-link{color:#333;text-decoration:none;font-size:16px}
.card-price,.price{color:#ff5000;font-weight:bold}
.card-shop{color:#888;font-size:13px}
.empty,.end,.removed,.error{padding:32px;text-align:center;color:#888}
.gallery img{width:160px;height:160px;margin:0 8px 8px 0}
.seller{margin-top:16px;padding:10px;background:#fafafa;font-size:14px}
.credit-code,.license{display:block;color:#555}
</style>
</head>
<body>
<header><a href="/spa/">沙箱商城 · 移动版</a>
<form action="/spa/search" method="get"><input name="q" placeholder="搜索商品">
<button type="submit">搜索</button></form></header>
<main id="app"></main>
<script src="/static/spa.js"></script>
</body>
</html>
"""


def _item_json(listing: SandboxListing, shop_name: str) -> dict[str, Any]:
    return {"id": listing.id, "title": listing.title, "price": listing.price,
            "url": f"/spa/item/{listing.id}", "shop": {"id": listing.shop_id, "name": shop_name}}


def spa_router(catalog: Catalog, faults: Faults | None = None) -> APIRouter:
    """Routes of the single-page app and its JSON API over ``catalog``."""
    router = APIRouter()
    shops = {shop.id: shop for shop in catalog.shops}
    script = SCRIPT.read_bytes()

    def shell() -> HTMLResponse:
        return HTMLResponse(_SHELL, media_type="text/html; charset=utf-8")

    @router.get("/spa/", response_class=HTMLResponse)
    def spa_index() -> HTMLResponse:
        return shell()

    @router.get("/spa/search", response_class=HTMLResponse)
    def spa_search() -> HTMLResponse:
        return shell()

    @router.get("/spa/item/{listing_id}", response_class=HTMLResponse)
    def spa_item(listing_id: str) -> HTMLResponse:
        # Like a real SPA, the shell is 200 for every id: only the API knows the listing.
        return shell()

    @router.get("/static/spa.js")
    def spa_script() -> Response:
        return Response(script, media_type="text/javascript; charset=utf-8")

    @router.get("/api/search")
    def api_search(q: str = "", page: Annotated[int, Query(ge=1, le=100_000)] = 1
                   ) -> JSONResponse:
        found = [listing for listing in catalog.search(q)
                 if current_listing(catalog, faults, listing.id) is not None]
        start = (page - 1) * PAGE_SIZE
        chunk = [current_listing(catalog, faults, listing.id) or listing
                 for listing in found[start:start + PAGE_SIZE]]
        return JSONResponse({
            "items": [_item_json(item, shops[item.shop_id].name) for item in chunk],
            "page": page, "total": len(found), "has_more": start + PAGE_SIZE < len(found)})

    @router.get("/api/item/{listing_id}")
    def api_item(listing_id: str) -> JSONResponse:
        listing = current_listing(catalog, faults, listing_id)
        if listing is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        shop = shops[listing.shop_id]
        return JSONResponse({
            "id": listing.id, "title": listing.title, "description": listing.description,
            "price": listing.price, "images": list(listing.images),
            "url": f"/spa/item/{listing.id}",
            "seller": {"id": shop.id, "name": shop.name, "credit_code": shop.credit_code,
                       "license_text": shop.license_text}})

    return router
