"""Render pages in Chromium (Playwright) for platforms that build their pages with JavaScript.

One :class:`BrowserPool` per process launches the system's Chromium once
(``/usr/bin/chromium`` or ``JINGWANG_CHROMIUM``; never downloaded) and lends
out pooled browser contexts. The browser never touches the network itself:
it is launched behind a proxy address that refuses connections, and every
request a page makes is intercepted and fetched by the profile's
:class:`~crawler.fetch_http.HttpFetcher` — so the address checks, robots.txt,
rate limits, proxies, cookies and body caps apply to the browser too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    ViewportSize,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from crawler.fetch_http import TOOL, FetchError, HttpFetcher
from jingwang.records import Capture

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--headless")
# Resource types dropped when no evidence is being captured: the parse never needs them.
_HEAVY = frozenset({"image", "media", "font"})
# Requests that carry page content keep the politeness delay and robots.txt; the rest
# (scripts, styles, images) are assets of a page already allowed.
_CONTENT = frozenset({"document", "xhr", "fetch"})
_DROP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding",
                           "connection", "keep-alive"})
_VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


class BrowserUnavailable(Exception):
    """Chromium is missing or would not start."""


def chromium_path(explicit: str | None = None) -> str:
    """The Chromium to launch: the argument, else ``JINGWANG_CHROMIUM``, else Debian's."""
    return explicit or os.environ.get("JINGWANG_CHROMIUM") or DEFAULT_CHROMIUM


def chromium_available(explicit: str | None = None) -> bool:
    return Path(chromium_path(explicit)).is_file()


def _dead_port() -> socket.socket:
    """A loopback port held open without listening: every connection to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass(eq=False)
class Tab:
    """A pooled context with its one page; the page is reused, the route set up once.

    Requests the page makes are answered by whoever holds the tab now
    (``answer``); an idle tab's page gets no network at all.
    """

    context: BrowserContext
    page: Page
    answer: Callable[[Route], Awaitable[None]] | None = None

    async def route(self, route: Route) -> None:
        handler = self.answer
        if handler is None:
            with contextlib.suppress(PlaywrightError):
                await route.abort("blockedbyclient")
            return
        await handler(route)


class BrowserPool:
    """One Chromium, launched on first use, and up to ``size`` pooled tabs."""

    def __init__(self, *, executable: str | None = None, size: int = 4) -> None:
        self.executable = chromium_path(executable)
        self.size = max(2, size)  # an infinite-scroll page holds one while details use another
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[bool, list[Tab]] = {True: [], False: []}
        self._lock: asyncio.Lock | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._dead: socket.socket | None = None
        self.tool = "playwright"
        self.tabs_opened = 0  # contexts created over the pool's life (reuse keeps it low)

    async def __aenter__(self) -> BrowserPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def started(self) -> bool:
        return self._browser is not None

    async def browser(self) -> Browser:
        """The shared browser, launched on the first call."""
        if self._lock is None:
            self._lock = asyncio.Lock()
            self._slots = asyncio.Semaphore(self.size)
        async with self._lock:
            if self._browser is None:
                self._browser = await self._launch()
        return self._browser

    async def _launch(self) -> Browser:
        if not Path(self.executable).is_file():
            raise BrowserUnavailable(f"Chromium not found at {self.executable} "
                                     "(install Debian's chromium or set JINGWANG_CHROMIUM)")
        self._dead = _dead_port()
        port = self._dead.getsockname()[1]
        self._playwright = await async_playwright().start()
        try:
            browser = await self._playwright.chromium.launch(
                executable_path=self.executable,
                args=[*CHROMIUM_ARGS, f"--proxy-server=http://127.0.0.1:{port}",
                      "--proxy-bypass-list=<-loopback>"])
        except PlaywrightError as exc:
            await self._playwright.stop()
            self._playwright = None
            raise BrowserUnavailable(f"Chromium at {self.executable} did not start: "
                                     f"{str(exc).splitlines()[0]}") from None
        self.tool = f"{TOOL} playwright/{metadata.version('playwright')} chromium/{browser.version}"
        return browser

    async def _new_tab(self, browser: Browser, javascript: bool) -> Tab:
        context = await browser.new_context(
            java_script_enabled=javascript, service_workers="block", viewport=_VIEWPORT,
            locale="zh-CN")
        page = await context.new_page()
        self.tabs_opened += 1
        tab = Tab(context, page)
        await context.route("**/*", tab.route)
        return tab

    @contextlib.asynccontextmanager
    async def tab(self, *, javascript: bool = True) -> AsyncIterator[Tab]:
        """A pooled tab; it is cleared and returned to the pool afterwards."""
        browser = await self.browser()
        assert self._slots is not None
        async with self._slots:
            idle = self._idle[javascript]
            tab = idle.pop() if idle else await self._new_tab(browser, javascript)
            healthy = False
            try:
                yield tab
                healthy = not tab.page.is_closed()
            finally:
                tab.answer = None
                if healthy:
                    try:
                        await tab.context.clear_cookies()
                        idle.append(tab)
                    except PlaywrightError:
                        healthy = False
                if not healthy:
                    with contextlib.suppress(PlaywrightError):
                        await tab.context.close()

    async def close(self) -> None:
        for idle in self._idle.values():
            for tab in idle:
                with contextlib.suppress(PlaywrightError):
                    await tab.context.close()
            idle.clear()
        if self._browser is not None:
            with contextlib.suppress(PlaywrightError):
                await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
        if self._dead is not None:
            self._dead.close()
            self._dead = None


def _fulfil_headers(headers: dict[str, str], *, html: bool = False) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.lower() not in _DROP_HEADERS}
    if html:  # the body handed over is decoded text re-encoded as UTF-8
        out = {k: v for k, v in out.items() if k.lower() != "content-type"}
        out["content-type"] = "text/html; charset=utf-8"
    return out


class BrowserFetcher:
    """Renders one profile's pages in pooled tabs; the network is ``http``'s."""

    def __init__(self, pool: BrowserPool, http: HttpFetcher, *, timeout: float = 30.0,
                 wait_timeout: float = 10.0) -> None:
        self.pool = pool
        self.http = http
        self.timeout = timeout
        self.wait_timeout = wait_timeout

    async def fetch(self, url: str, *, wait_for: str | None = None) -> Capture:
        """The page at ``url`` as the browser shows it, once ``wait_for`` matches.

        The capture's body is the rendered DOM; its status and headers are those
        of the document. Error pages (status 400 and up) are not rendered.
        """
        document = await self.http.fetch(url)
        if document.status >= 400 or not _is_html(document):
            return document
        async with self.pool.tab() as tab, self._page(tab, document) as page:
            await self._wait(page, wait_for)
            return await self._snapshot(page, document)

    async def scroll(self, url: str, *, item: str, wait_for: str | None, rounds: int,
                     pause: float) -> AsyncGenerator[Capture, None]:
        """Snapshots of an infinite list: the first screen, then one per scroll that
        brought new ``item`` elements, at most ``rounds`` in all."""
        document = await self.http.fetch(url)
        if document.status >= 400 or not _is_html(document):
            yield document
            return
        async with self.pool.tab() as tab, self._page(tab, document) as page:
            await self._wait(page, wait_for or item)
            count = await page.locator(item).count()
            yield await self._snapshot(page, document)
            for _round in range(1, rounds):
                await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                try:
                    await page.wait_for_function(
                        "([sel, n]) => document.querySelectorAll(sel).length > n",
                        arg=[item, count], timeout=pause * 1000)
                except PlaywrightTimeout:
                    return  # nothing more loaded: the end of the list
                count = await page.locator(item).count()
                yield await self._snapshot(page, document)

    async def screenshot(self, capture: Capture) -> Capture:
        """A full-page screenshot of exactly ``capture``'s HTML (scripts off, images on).

        The stored HTML is what is shown, so the screenshot and the hashed HTML
        are the same evidence; returns a capture of the screenshot's own fetch.
        """
        async with self.pool.tab(javascript=False) as tab, \
                self._page(tab, capture, assets=True) as page:
            with contextlib.suppress(PlaywrightTimeout):
                await page.wait_for_load_state("load", timeout=self.wait_timeout * 1000)
            png = await page.screenshot(full_page=True, type="png",
                                        timeout=self.timeout * 1000)
        return replace(capture, fetched_at=self.http.now(), tool=self.pool.tool,
                       screenshot=png)

    @contextlib.asynccontextmanager
    async def _page(self, tab: Tab, document: Capture, *,
                    assets: bool = False) -> AsyncIterator[Page]:
        served = False

        async def answer(route: Route) -> None:
            nonlocal served
            request = route.request
            try:
                if not served and request.url == document.final_url \
                        and request.is_navigation_request():
                    served = True
                    await route.fulfill(status=document.status, body=document.body,
                                        headers=_fulfil_headers(document.headers))
                    return
                if request.method != "GET" or (not assets and request.resource_type in _HEAVY):
                    await route.abort("blockedbyclient")
                    return
                got = await self.http.fetch(request.url,
                                            asset=request.resource_type not in _CONTENT)
                await route.fulfill(status=got.status, body=got.body,
                                    headers=_fulfil_headers(got.headers))
            except FetchError as exc:
                with contextlib.suppress(PlaywrightError):
                    await route.abort("blockedbyclient" if exc.kind in ("blocked", "robots")
                                      else "failed")
            except PlaywrightError:
                pass  # the page went away while the answer was on its way

        tab.answer = answer
        try:
            await tab.page.goto(document.final_url, wait_until="domcontentloaded",
                                timeout=self.timeout * 1000)
            yield tab.page
        except PlaywrightError as exc:
            raise FetchError(document.url, "browser", str(exc).splitlines()[0]) from None
        finally:
            tab.answer = None

    async def _wait(self, page: Page, selector: str | None) -> None:
        if selector:
            # A page that never shows it (a block, a changed layout) is still read:
            # the parse decides what it is.
            with contextlib.suppress(PlaywrightTimeout):
                await page.wait_for_selector(selector, state="attached",
                                             timeout=self.wait_timeout * 1000)

    async def _snapshot(self, page: Page, document: Capture) -> Capture:
        html = await page.content()
        return Capture(url=document.url, final_url=document.final_url, status=document.status,
                       fetched_at=self.http.now(),
                       headers=_fulfil_headers(document.headers, html=True),
                       body=html.encode("utf-8"), tool=self.pool.tool)


def _is_html(capture: Capture) -> bool:
    kind: Any = next((v for k, v in capture.headers.items() if k.lower() == "content-type"), "")
    return "html" in str(kind).lower() or not kind
