"""A tiny marketplace in the sandbox HTML contract's shape, plus pages that misbehave.

It exists so crawler tests can run over real HTTP before (and besides) the
sandbox: it has edge cases the sandbox does not (a changed layout, flaky and
rate-limited pages, oversize bodies, redirects, robots.txt rules).
"""

from __future__ import annotations

import asyncio
import html
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

PAGE_SIZE = 10


@dataclass
class Item:
    id: str
    title: str
    description: str  # HTML
    price: str
    shop: str
    credit_code: str | None = None
    license: str | None = None
    images: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def _catalogue() -> list[Item]:
    items = []
    for i in range(1, 26):
        tags = ("报告", "认证") if i % 2 else ("报告",)
        items.append(Item(
            id=f"t-{i:03d}", title=f"检测报告代办 第{i}号", description=f"<p>说明 {i}</p>",
            price=f"{i * 10}.00", shop=f"shop-{i % 4}", tags=tags))
    items[2] = Item(  # t-003: the rich one
        id="t-003", title="  CMA 检测报告\n  当天出证  ",
        description=("<p>第一段  文字</p><p>第二段<br>换行后</p>"
                     "<script>alert('x')</script>包过<b>加粗</b>"),
        price="¥99.00", shop="shop-3", credit_code="91350100M000100Y43",
        license="营业执照<br>经营范围：检验检测", images=("/img/a.png", "b.png", "/img/a.png"),
        tags=("报告", "认证"))
    items[4] = Item(  # t-005: seller-written markup must stay text
        id="t-005", title="[bold red]伪造[/] <i>标题</i>", description="", price="5.00",
        shop="shop-1", tags=("报告", "认证"))
    return items


CATALOGUE = _catalogue()
BY_ID = {item.id: item for item in CATALOGUE}
NO_TITLE = "t-007"  # its detail page lacks the title: a parse failure
GONE = "t-011"  # listed by search, but its page says it was removed


@dataclass
class SiteLog:
    """What the site was asked, so tests can count requests on the server side."""

    hits: Counter[str] = field(default_factory=Counter)
    times: dict[str, list[float]] = field(default_factory=dict)

    def reset(self) -> None:
        self.hits.clear()
        self.times.clear()

    def record(self, path: str) -> None:
        self.hits[path] += 1
        self.times.setdefault(path, []).append(time.monotonic())

    def count(self, prefix: str) -> int:
        return sum(n for path, n in self.hits.items() if path.startswith(prefix))


def _li(item: Item) -> str:
    return (f'<li class="item" data-id="{item.id}"><a class="item-link" href="/item/{item.id}">'
            f'{html.escape(item.title)}</a> <span class="price">¥{item.price}</span> '
            f'<a class="shop-link" href="/shop/{item.shop}">{item.shop}</a></li>')


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'></head>"
                        f"<body>{body}</body></html>", status_code=status)


def create_site(log: SiteLog) -> Starlette:
    async def search(request: Request) -> Response:
        keyword = request.query_params.get("q", "")
        page = int(request.query_params.get("page", "1"))
        found = [i for i in CATALOGUE if keyword and keyword in i.tags]
        chunk = found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        if not chunk:
            return _page('<div class="empty">没有找到相关商品</div>')
        more = ""
        if page * PAGE_SIZE < len(found):
            more = f'<a class="next" href="/search?q={keyword}&amp;page={page + 1}">下一页</a>'
        return _page(f'<ul class="results">{"".join(map(_li, chunk))}</ul>{more}')

    async def broken_search(request: Request) -> Response:
        # The platform changed its layout: no li.item and no empty marker.
        return _page('<div class="grid"><div class="card"><a href="/item/t-001">x</a></div></div>')

    async def item(request: Request) -> Response:
        item_id = request.path_params["id"]
        found = BY_ID.get(item_id)
        if found is None or item_id == GONE:
            return _page('<div class="removed">该商品已下架或不存在</div>', status=404)
        seller = f'<a class="shop-name" href="/shop/{found.shop}">{found.shop}</a>'
        if found.credit_code:
            seller += f'<span class="credit-code">{found.credit_code}</span>'
        if found.license:
            seller += f'<div class="license">{found.license}</div>'
        gallery = "".join(f'<img class="gallery-img" src="{src}">' for src in found.images)
        title = "" if item_id == NO_TITLE else f'<h1 class="title">{html.escape(found.title)}</h1>'
        return _page(f'<meta name="listing-id" content="{found.id}">{title}'
                     f'<div class="desc">{found.description}</div>'
                     f'<span class="price">¥{found.price}</span>'
                     f'<div class="gallery">{gallery}</div><div class="seller">{seller}</div>')

    async def robots(request: Request) -> Response:
        return PlainTextResponse("User-agent: *\nDisallow: /private\n")

    async def private(request: Request) -> Response:
        return PlainTextResponse("secret")

    async def flaky(request: Request) -> Response:
        failures = int(request.path_params["n"])
        if log.hits[request.url.path] <= failures:
            return PlainTextResponse("try again", status_code=503)
        return PlainTextResponse("ok")

    async def always_503(request: Request) -> Response:
        return PlainTextResponse("down", status_code=503)

    async def limited(request: Request) -> Response:
        if log.hits[request.url.path] == 1:
            return PlainTextResponse("slow down", status_code=429,
                                     headers={"Retry-After": request.path_params["secs"]})
        return PlainTextResponse("ok")

    async def big(request: Request) -> Response:
        return Response(b"x" * int(request.path_params["n"]), media_type="text/plain")

    async def big_stream(request: Request) -> Response:
        n = int(request.path_params["n"])

        async def chunks() -> Any:
            for _ in range(n // 100):
                yield b"y" * 100

        return StreamingResponse(chunks(), media_type="text/plain")  # chunked, no length

    async def redirect(request: Request) -> Response:
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def chain(request: Request) -> Response:
        n = int(request.path_params["n"])
        if n == 0:
            return PlainTextResponse("end of chain")
        return RedirectResponse(f"/chain/{n - 1}", status_code=301)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(1.0)
        return PlainTextResponse("finally")

    async def gbk(request: Request) -> Response:
        body = ('<html><head><meta charset="gbk"></head><body>'
                '<meta name="listing-id" content="g-1"><h1 class="title">国家级检测报告</h1>'
                '</body></html>').encode("gbk")
        # The charset is only in <meta>.
        return Response(body, headers={"content-type": "text/html"})

    async def headers(request: Request) -> Response:
        return PlainTextResponse(f"{request.headers.get('user-agent')}|"
                                 f"{request.headers.get('accept-language')}")

    async def record(request: Request, call_next: Any) -> Any:
        log.record(request.url.path)
        return await call_next(request)

    return Starlette(middleware=[Middleware(BaseHTTPMiddleware, dispatch=record)], routes=[
        Route("/search", search), Route("/broken-search", broken_search),
        Route("/item/{id}", item), Route("/robots.txt", robots), Route("/private/{rest}", private),
        Route("/flaky/{n}/{key}", flaky), Route("/always503/{key}", always_503),
        Route("/limited/{secs}/{key}", limited), Route("/big/{n}", big),
        Route("/big-stream/{n}", big_stream), Route("/redirect", redirect),
        Route("/chain/{n}", chain), Route("/slow", slow), Route("/gbk", gbk),
        Route("/headers", headers),
    ])
