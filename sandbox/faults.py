"""The hostile sandbox: faults a real platform throws at a crawler, switchable while it runs.

``create_app(seed, faults=Faults())`` wraps the marketplace in :class:`FaultMiddleware`
and adds admin routes; the default app has neither. Faults apply to requests
whose path starts with one of ``Faults.paths``; each is off until set:

- ``challenge``: ``captcha`` (验证码 page), ``slider`` (滑块 page), ``interstitial``
  (an anti-bot "checking your browser" page, HTTP 503) instead of every faulted page
- ``login_wall``: listing pages redirect to ``/login`` unless the request has the
  cookie ``sb_session=ok`` (a logged-in session)
- ``limit_429`` with ``retry_after``: the next N requests get 429 with Retry-After
- ``fail_first``: each path answers 503 this many times before it works
- ``error_rate``: that share of requests answers a random 5xx (seeded)
- ``slow``: seconds before every answer
- ``reset_first``: each path drops the connection mid-response this many times
- ``removed``: listing ids whose pages say the listing is gone (404)
- ``edits``: listing id → a new title (the listing's content changed)
- ``malformed``: listing pages with broken markup around the same content
- ``huge``: bytes of padding added to every listing page
- ``robots_disallow``: path prefixes robots.txt disallows

Admin routes (never faulted): ``GET/PUT /_faults`` (the switches as JSON),
``POST /_faults/reset``, ``GET /_log`` (requests with server-side times), and
``/_redirect?to=URL`` and ``/_bomb?mb=N`` (a gzip body that expands N MiB).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import html
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.data import Catalog, SandboxListing

DEFAULT_PATHS = ("/search", "/item/", "/shop/", "/api/", "/spa/")
SESSION_COOKIE = "sb_session=ok"


@dataclass
class Faults:
    """The switches; tests set attributes directly or PUT them as JSON to ``/_faults``."""

    paths: list[str] = field(default_factory=lambda: list(DEFAULT_PATHS))
    challenge: str | None = None  # "captcha" | "slider" | "interstitial"
    login_wall: bool = False
    limit_429: int = 0
    retry_after: int = 1
    fail_first: int = 0
    error_rate: float = 0.0
    slow: float = 0.0
    reset_first: int = 0
    removed: list[str] = field(default_factory=list)
    edits: dict[str, str] = field(default_factory=dict)
    malformed: bool = False
    huge: int = 0
    robots_disallow: list[str] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        # Per-path counters of fail_first and reset_first; cleared by reset().
        self.counters: Counter[str] = Counter()
        self.lock = threading.Lock()

    def count(self, key: str) -> int:
        with self.lock:
            self.counters[key] += 1
            return self.counters[key]

    def take_429(self) -> bool:
        with self.lock:
            if self.limit_429 > 0:
                self.limit_429 -= 1
                return True
            return False

    def update(self, data: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
        for key, value in data.items():
            setattr(self, key, value)

    def reset(self) -> None:
        self.update(asdict(Faults()))
        with self.lock:
            self.counters.clear()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Entry:
    """One logged request; unpacks as ``(time, method, path, status)``."""

    t: float
    method: str
    path: str
    status: int = 0  # 0 until the answer starts (and if none was sent)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.t, self.method, self.path, self.status))


@dataclass
class RequestLog:
    """Every request the hostile sandbox saw, stamped with the server's monotonic clock
    when it arrived (so a client that has its answer finds it logged)."""

    entries: list[Entry] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str) -> Entry:
        entry = Entry(time.monotonic(), method, path)
        with self.lock:
            self.entries.append(entry)
        return entry

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def times(self, path: str) -> list[float]:
        with self.lock:
            return [t for t, _m, p, _s in self.entries if p == path]

    def paths(self, prefix: str = "/") -> list[str]:
        with self.lock:
            return [p for _t, _m, p, _s in self.entries if p.startswith(prefix)]


class _Reset(Exception):
    """Raised mid-response so the server drops the connection (a reset, as the client sees it)."""


def current_listing(catalog: Catalog, faults: Faults | None,
                    listing_id: str) -> SandboxListing | None:
    """The listing as the platform shows it now: None when removed, edited when edited."""
    listing = catalog.listing(listing_id)
    if listing is None or faults is None:
        return listing
    if listing_id in faults.removed:
        return None
    if listing_id in faults.edits:
        return dataclasses.replace(listing, title=faults.edits[listing_id])
    return listing


def challenge_page(kind: str) -> tuple[int, str]:
    """Status and HTML of an anti-bot page of ``kind``."""
    if kind == "captcha":
        body = ('<div class="captcha-box" id="captcha"><h2>请输入验证码</h2>'
                '<img src="/_captcha.png" alt="验证码"><input name="code"></div>')
        return 200, _doc("安全验证", body)
    if kind == "slider":
        body = ('<div id="nc_1_wrapper"><span class="nc-lang-cnt">请按住滑块，拖动到最右边</span>'
                '</div><p>访问验证：请完成安全验证后继续浏览</p>')
        return 200, _doc("访问验证", body)
    body = ('<div id="challenge-stage"><h1>Just a moment...</h1>'
            '<p>Checking your browser before accessing the site.</p></div>')
    return 503, _doc("Just a moment...", body)


def login_page(next_path: str) -> str:
    return _doc("登录", '<form class="login" method="post"><h2>请登录后查看商品详情</h2>'
                '<input name="user"><input type="password" name="password">'
                f'<input type="hidden" name="next" value="{html.escape(next_path)}">'
                "<button>登录</button></form>")


def _doc(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body>{body}</body></html>")


def malform(page: str) -> str:
    """The same page with the markup broken the ways real pages break it."""
    return ("<html><head><meta charset=utf-8><title>损坏的页面</title><body><div><p>"
            + page.replace("</div>", "", 2).replace("<p>", "<p><b><i>", 3)
            + "</span></td></tr></table>\x00\ufffd<div<<p>>&&nbsp<!-- unterminated")


def gzip_bomb(megabytes: int) -> bytes:
    return gzip.compress(b"\0" * (megabytes * 1024 * 1024), compresslevel=9)


class FaultMiddleware:
    """ASGI middleware that applies :class:`Faults` to matching requests and logs them all."""

    def __init__(self, app: ASGIApp, faults: Faults, log: RequestLog) -> None:
        self.app = app
        self.faults = faults
        self.log = log
        self._rng = random.Random(faults.seed)
        self._seed = faults.seed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        entry = self.log.add(scope["method"], path)

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        faulted = not path.startswith("/_") and any(
            path.startswith(prefix) for prefix in self.faults.paths)
        if faulted and await self._fault(scope, receive, logged_send, path):
            return
        await self.app(scope, receive, logged_send)

    async def _fault(self, scope: Scope, receive: Receive, send: Send, path: str) -> bool:
        """Answer with a fault and return True, or return False to serve the page."""
        faults = self.faults
        if faults.slow > 0:
            await asyncio.sleep(faults.slow)
        if faults.seed != self._seed:  # a new seed restarts the random faults
            self._rng, self._seed = random.Random(faults.seed), faults.seed
        if faults.take_429():
            await _send(send, 429, "请求过于频繁，请稍后再试", "text/plain; charset=utf-8",
                        [(b"retry-after", str(faults.retry_after).encode())])
            return True
        if faults.reset_first and faults.count(f"reset:{path}") <= faults.reset_first:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"5000"),
                                    (b"content-type", b"text/html; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"<html>", "more_body": True})
            raise _Reset("connection dropped on purpose")
        if faults.fail_first and faults.count(f"fail:{path}") <= faults.fail_first:
            await _send(send, 503, "服务暂时不可用", "text/plain; charset=utf-8")
            return True
        if faults.error_rate and self._rng.random() < faults.error_rate:
            await _send(send, self._rng.choice((500, 502, 503, 504)), "服务器错误",
                        "text/plain; charset=utf-8")
            return True
        is_item = path.startswith(("/item/", "/spa/item/", "/api/item/"))
        if faults.login_wall and is_item and not _has_session(scope):
            await _send(send, 302, "", "text/plain",
                        [(b"location", f"/login?next={path}".encode())])
            return True
        if faults.challenge:
            status, body = challenge_page(faults.challenge)
            await _send(send, status, body, "text/html; charset=utf-8")
            return True
        return False


def _has_session(scope: Scope) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"cookie" and SESSION_COOKIE.encode() in value:
            return True
    return False


async def _send(send: Send, status: int, body: str, content_type: str,
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = body.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})
