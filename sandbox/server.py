"""The sandbox marketplace as a FastAPI app: an offline demo platform that knows its ground truth.

Routes (static HTML platform, the shared sandbox contract; all seller text escaped):

- ``GET /`` — home page: search box, hot keywords, every shop.
- ``GET /search?q=KEYWORD&page=N`` — 20 results a page (N from 1) in
  ``ul.results > li.item[data-id]`` with ``a.item-link``, ``span.price`` and
  ``a.shop-link``; ``a.next`` when there is a next page; a page past the end
  shows ``div.empty`` (没有找到相关商品) and no ``li.item``. A listing matches
  when the keyword occurs, case-insensitively, in its title, description or
  search tags; an empty keyword matches everything.
- ``GET /item/{id}`` — ``meta[name=listing-id]``, ``h1.title``, ``div.desc``
  (one ``<p>`` a paragraph), ``span.price``, ``img.gallery-img`` (0..n) and
  ``div.seller`` with ``a.shop-name``, ``span.credit-code`` and ``div.license``
  (the last two only when the shop shows them). Unknown id: 404 with
  ``div.removed`` (该商品已下架或不存在).
- ``GET /shop/{id}`` — ``h1.shop-name``, ``span.credit-code``, ``div.license``
  and the shop's listings with the same row markup as search; unknown id: 404.
- ``GET /img/{name}.png`` — listing pictures, drawn once with Pillow and cached.
- ``GET /robots.txt`` — allows everything.
- ``GET /_truth.json`` — ``{"seed": S, "listings": {ID: {"categories": [...],
  "evasions": [...], "kind": ...}}}``, the same as ``generate(S).truth()``.

The second platform style, a JavaScript single-page app on a JSON API
(``/spa/…``, ``/api/…``), is served by every app (:mod:`sandbox.spa`).
``create_app(seed, faults=Faults())`` makes the hostile sandbox: faults
switchable while it runs, and admin routes (:mod:`sandbox.faults`); without
``faults`` none of that exists and the routes above behave as described.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.data import DEFAULT_SEED, Catalog, generate
from sandbox.faults import (
    FaultMiddleware,
    Faults,
    RequestLog,
    current_listing,
    gzip_bomb,
    login_page,
    malform,
)
from sandbox.images import draw_png
from sandbox.pages import Pages
from sandbox.spa import spa_router

PAGE_SIZE = 20
HOT_KEYWORDS = ("认证", "检测报告", "证书", "3C", "质检报告", "ISO9001", "CMA")
_HTML = "text/html; charset=utf-8"


class _ImageCache:
    """PNG bytes by image name, drawn on first request (thread-safe under uvicorn)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._png: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> bytes | None:
        spec = self.catalog.images.get(name)
        if spec is None:
            return None
        with self._lock:
            if name not in self._png:
                self._png[name] = draw_png(spec)
            return self._png[name]


def create_app(seed: int = DEFAULT_SEED, *, catalog: Catalog | None = None,
               faults: Faults | None = None) -> FastAPI:
    """The sandbox for ``seed`` (or for a prepared ``catalog``, e.g. one a test built).

    With ``faults`` it is the hostile sandbox: ``app.state.faults`` and
    ``app.state.log`` are the live switches and the request log.
    """
    catalog = catalog or generate(seed)
    pages = Pages(catalog.shops)
    images = _ImageCache(catalog)
    app = FastAPI(title="沙箱商城", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.catalog = catalog
    app.include_router(spa_router(catalog, faults))
    if faults is not None:
        log = RequestLog()
        app.state.faults, app.state.log = faults, log
        app.add_middleware(FaultMiddleware, faults=faults, log=log)
        _admin_routes(app, faults, log)

    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, media_type=_HTML)

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return html(pages.not_found("页面不存在"), 404)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return html(pages.index(HOT_KEYWORDS))

    @app.get("/search", response_class=HTMLResponse)
    def search(q: str = "", page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
        found = [shown for listing in catalog.search(q)
                 if (shown := current_listing(catalog, faults, listing.id)) is not None]
        start = (page - 1) * PAGE_SIZE
        items = found[start:start + PAGE_SIZE]
        return html(pages.search(q, page, items, len(found), start + PAGE_SIZE < len(found)))

    @app.get("/item/{listing_id}", response_class=HTMLResponse)
    def item(listing_id: str) -> HTMLResponse:
        listing = current_listing(catalog, faults, listing_id)
        if listing is None:
            return html(pages.removed(), 404)
        page = pages.item(listing)
        if faults is not None and faults.malformed:
            page = malform(page)
        if faults is not None and faults.huge:
            page += "<!--" + "x" * faults.huge + "-->"
        return html(page)

    @app.get("/shop/{shop_id}", response_class=HTMLResponse)
    def shop(shop_id: str) -> HTMLResponse:
        found = catalog.shop(shop_id)
        if found is None:
            return html(pages.not_found("店铺不存在或已关闭"), 404)
        return html(pages.shop(found, catalog.shop_listings(shop_id)))

    @app.get("/img/{name}.png")
    def image(name: str) -> Response:
        png = images.get(name)
        if png is None:
            return html(pages.not_found("图片不存在"), 404)
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/robots.txt", response_class=PlainTextResponse)
    def robots() -> str:
        disallowed = faults.robots_disallow if faults is not None else []
        return "User-agent: *\n" + "".join(f"Disallow: {p}\n" for p in disallowed) + "Allow: /\n"

    @app.get("/_truth.json")
    def truth() -> JSONResponse:
        payload: dict[str, Any] = {"seed": catalog.seed, "listings": catalog.truth()}
        return JSONResponse(payload)

    return app


def _admin_routes(app: FastAPI, faults: Faults, log: RequestLog) -> None:
    """Switches, request log and trap pages of the hostile sandbox."""

    @app.get("/_faults")
    def get_faults() -> JSONResponse:
        return JSONResponse(faults.to_dict())

    @app.put("/_faults")
    async def put_faults(request: Request) -> JSONResponse:
        try:
            faults.update(await request.json())
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(faults.to_dict())

    @app.post("/_faults/reset")
    def reset_faults() -> JSONResponse:
        faults.reset()
        log.clear()
        return JSONResponse(faults.to_dict())

    @app.get("/_log")
    def request_log() -> JSONResponse:
        with log.lock:
            entries = [{"t": e.t, "method": e.method, "path": e.path, "status": e.status}
                       for e in log.entries]
        return JSONResponse(entries)

    @app.get("/_redirect")
    def redirect(to: str, status: int = 302) -> Response:
        return Response(status_code=status, headers={"location": to})

    @app.get("/_bomb")
    def bomb(mb: Annotated[int, Query(ge=1, le=512)] = 50) -> Response:
        return Response(gzip_bomb(mb), media_type="text/html; charset=utf-8",
                        headers={"content-encoding": "gzip"})

    @app.get("/login", response_class=HTMLResponse)
    def login(next: str = "/") -> HTMLResponse:
        return HTMLResponse(login_page(next), media_type=_HTML)


def serve(host: str, port: int, seed: int) -> None:
    """Serve the sandbox for ``seed`` on ``host:port`` until interrupted."""
    import uvicorn

    uvicorn.run(create_app(seed), host=host, port=port, log_level="info")
