"""Fetch pages over HTTP politely and defensively, returning evidence-grade captures.

One :class:`HttpFetcher` serves one platform profile: it limits concurrency
and spacing per host (adapting to the host, :mod:`crawler.throttle`), retries
network errors and 5xx with exponential backoff and jitter, honours 429
``Retry-After``, caps redirects and the body before and after decompression,
obeys robots.txt when the profile says so, sends the profile's user agent and
cookies, rotates its proxies, and follows redirects itself so every hop passes
the address check of :mod:`crawler.ssrf` — at connect time, on the address it
connects to.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from crawler.cookies import load_cookie_file, to_httpx
from crawler.profiles import Profile, RateSpec
from crawler.ssrf import (
    AddressPolicy,
    BlockedAddressError,
    ResolveError,
    Resolver,
    host_and_port,
    system_resolver,
)
from crawler.throttle import HostGate
from crawler.transport import (
    ACCEPT_ENCODING,
    BoundedDecoder,
    DecodeError,
    PinnedTransport,
    ssl_context,
)
from jingwang.clock import utcnow
from jingwang.records import Capture

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
_ROBOTS_TTL = 24 * 3600.0  # RFC 9309: do not use a cached robots.txt for more than 24h


def _version() -> str:
    try:
        return metadata.version("jingwang")
    except metadata.PackageNotFoundError:
        return "0.1"


TOOL = f"jingwang/{_version()} httpx/{httpx.__version__}"
DEFAULT_USER_AGENT = f"jingwang/{_version()} (market regulation listing monitor)"


class FetchError(Exception):
    """A page could not be fetched; ``kind`` says why in one word.

    Kinds: ``network``, ``dns``, ``timeout``, ``status`` (5xx after retries),
    ``rate_limited``, ``too_large``, ``redirects``, ``blocked`` (address
    check), ``robots``, ``invalid_url``, ``decoding``, ``browser`` (rendering).
    ``capture`` is the last answer for ``status`` and ``rate_limited`` (a
    challenge page may be a 503).
    """

    def __init__(self, url: str, kind: str, message: str,
                 capture: Capture | None = None) -> None:
        self.url = url
        self.kind = kind
        self.message = message
        self.capture = capture
        super().__init__(f"{url}: {kind}: {message}")


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """Limits of one fetcher; the defaults suit real platforms."""

    timeout: float = 20.0  # connect / read / write / pool, each
    deadline: float = 60.0  # one whole request, body included
    max_body: int = 10 * 1024 * 1024  # bytes on the wire
    max_decompressed: int = 20 * 1024 * 1024  # bytes after Content-Encoding is undone
    max_redirects: int = 5
    attempts: int = 3  # tries per URL for network errors, 5xx and 429
    backoff: float = 0.5  # first retry waits about this long, doubling after
    backoff_max: float = 30.0
    retry_after_max: float = 120.0  # a longer Retry-After fails instead of waiting
    user_agent: str = DEFAULT_USER_AGENT  # unless the profile sets its own
    proxy_cooldown: float = 60.0  # a proxy that failed is skipped this long
    # Host names that may resolve to loopback although the profile does not allow it.
    loopback_hosts: frozenset[str] = frozenset()
    resolver: Resolver = system_resolver


class _Retryable(Exception):
    """An attempt failed in a way another attempt may fix."""

    def __init__(self, error: FetchError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


@dataclass(slots=True)
class _Robots:
    parser: Protego | None  # None: everything allowed (no robots.txt)
    loaded_at: float


@dataclass(slots=True)
class _Route:
    """One way out: a direct client, or a client through one proxy."""

    client: httpx.AsyncClient
    proxy: str | None = None
    cool_until: float = 0.0



def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class HttpFetcher:
    """Async HTTP fetcher for one profile; use as ``async with HttpFetcher(p) as f``."""

    def __init__(self, profile: Profile | None = None, *, options: FetchOptions | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 rng: random.Random | None = None) -> None:
        self.options = options or FetchOptions()
        self.rate = profile.rate if profile else RateSpec()
        self.policy = AddressPolicy(
            allow_loopback=profile.allow_loopback if profile else False,
            loopback_hosts=frozenset(h.lower() for h in self.options.loopback_hosts),
            resolver=self.options.resolver)
        self.respect_robots = (profile.robots == "respect") if profile else True
        self._clock = clock
        self._rng = rng or random.Random()
        self.user_agent = (profile.user_agent if profile and profile.user_agent
                           else self.options.user_agent)
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        headers.update(profile.headers if profile else {})
        self.user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"),
                               self.user_agent)
        cookies = (to_httpx(load_cookie_file(profile.cookies_file))
                   if profile and profile.cookies_file else None)
        limits = httpx.Limits(max_connections=max(10, self.rate.concurrency * 4))
        timeout = httpx.Timeout(self.options.timeout)

        def client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
            # Never trust_env: environment proxies would route around the address checks.
            return httpx.AsyncClient(transport=transport, headers=headers, cookies=cookies,
                                     follow_redirects=False, timeout=timeout, trust_env=False)

        proxies = list(profile.proxies) if profile else []
        if transport is not None:
            self._routes = [_Route(client(transport))]
        elif proxies:
            # The proxy resolves the target, so its address is checked before the request
            # (see _check_hop); the proxy itself is the operator's own configuration.
            self._routes = [_Route(client(httpx.AsyncHTTPTransport(
                proxy=proxy, verify=ssl_context(), limits=limits, trust_env=False)), proxy)
                for proxy in proxies]
        else:
            self._routes = [_Route(client(PinnedTransport(self.policy, limits=limits)))]
        self._next_route = 0
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for route in self._routes:
            await route.client.aclose()

    def now(self) -> datetime:
        """The fetcher's clock (captures are stamped with it)."""
        return self._clock()

    @property
    def proxies(self) -> list[str]:
        return [route.proxy for route in self._routes if route.proxy]

    async def fetch(self, url: str, *, asset: bool = False) -> Capture:
        """GET ``url``; any status below 500 except 429 is returned as a Capture.

        404 and other 4xx pages are captures, not errors: a removed listing's
        page is evidence too. ``asset`` requests (a page's scripts, styles and
        images, fetched for the browser) skip robots.txt and the politeness
        delay but keep every other rule. Raises :class:`FetchError` when no
        attempt worked.
        """
        attempts = max(1, self.options.attempts)
        for attempt in range(1, attempts + 1):
            route = self._pick_route()
            try:
                return await self._follow(url, route, robots=self.respect_robots and not asset,
                                          polite=not asset)
            except _Retryable as retry:
                if retry.error.kind in ("network", "timeout") and route.proxy:
                    route.cool_until = time.monotonic() + self.options.proxy_cooldown
                if attempt == attempts:
                    raise retry.error from None
                await asyncio.sleep(retry.wait if retry.wait is not None
                                    else self._backoff(attempt))
        raise AssertionError("unreachable")

    def pause_host(self, url: str, seconds: float) -> None:
        """Start no request to ``url``'s host for ``seconds`` (e.g. after a block)."""
        self.gate(url).pause_until(time.monotonic() + seconds)

    def gate(self, url: str) -> HostGate:
        host = urlsplit(url).netloc.lower()
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = HostGate(self.rate)
        return gate

    def _pick_route(self) -> _Route:
        """The next route in turn, skipping proxies that recently failed (unless all did)."""
        now = time.monotonic()
        count = len(self._routes)
        for step in range(count):
            route = self._routes[(self._next_route + step) % count]
            if route.cool_until <= now:
                self._next_route = (self._next_route + step + 1) % count
                return route
        route = min(self._routes, key=lambda r: r.cool_until)
        self._next_route = (self._routes.index(route) + 1) % count
        return route

    def _backoff(self, attempt: int) -> float:
        base = min(self.options.backoff_max, self.options.backoff * 2.0 ** (attempt - 1))
        return base / 2 + self._rng.uniform(0, base / 2)  # jitter spreads retries apart

    async def _follow(self, url: str, route: _Route, *, robots: bool, polite: bool = True,
                      max_body: int | None = None) -> Capture:
        """One attempt: follow redirects by hand, checking every hop."""
        current = url
        for _hop in range(self.options.max_redirects + 1):
            await self._check_hop(url, current, route)
            if robots:
                await self._check_robots(url, current, route)
            response, body, started = await self._request(url, current, route, polite=polite,
                                                           max_body=max_body)
            gate = self.gate(current)
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_STATUSES and location:
                gate.observe(time.monotonic() - started)
                current = urljoin(current, location.strip())
                continue
            capture = Capture(url=url, final_url=current, status=response.status_code,
                              fetched_at=self._clock(), headers=dict(response.headers.items()),
                              body=body, tool=TOOL)
            if response.status_code == 429:
                gate.penalise()
                wait = parse_retry_after(response.headers.get("retry-after"), now=self._clock())
                if wait is not None and wait > self.options.retry_after_max:
                    raise FetchError(url, "rate_limited",
                                     f"HTTP 429 asks to wait {wait:.0f}s, more than "
                                     f"{self.options.retry_after_max:.0f}s", capture)
                if wait is not None:
                    # Every request to this host waits, not only this retry.
                    gate.pause_until(time.monotonic() + wait)
                raise _Retryable(FetchError(url, "rate_limited", "HTTP 429 Too Many Requests",
                                            capture), wait)
            if response.status_code >= 500:
                gate.penalise()
                raise _Retryable(FetchError(url, "status", f"HTTP {response.status_code}",
                                            capture))
            gate.observe(time.monotonic() - started)
            return capture
        raise FetchError(url, "redirects", f"more than {self.options.max_redirects} redirects")

    async def _check_hop(self, url: str, hop: str, route: _Route) -> None:
        """Refuse a hop early: its scheme, shape and resolved addresses.

        This early check keeps robots.txt and the host gate out of it and names
        the hop in the error. It is not the one that counts: without a proxy the
        address is checked again where the connection is made, on the address
        connected to (:class:`crawler.ssrf.PinnedBackend`); through a proxy,
        which resolves the host itself, this is the only check possible.
        """
        where = "" if hop == url else f" (redirect to {hop})"
        try:
            host_and_port(hop)
            await self.policy.check(hop)
        except BlockedAddressError as exc:
            raise FetchError(url, "blocked", f"{exc.reason}{where}") from None
        except ResolveError as exc:
            raise _Retryable(FetchError(url, "dns", str(exc))) from None

    async def _request(self, url: str, hop: str, route: _Route, *, polite: bool,
                       max_body: int | None) -> tuple[httpx.Response, bytes, float]:
        """GET one hop; the body is streamed, decoded here and cut off past the caps."""
        raw_limit = self.options.max_body if max_body is None else max_body
        decoded_limit = self.options.max_decompressed if max_body is None else max_body
        gate = self.gate(hop)
        where = "" if hop == url else f" (redirect to {hop})"
        try:
            # The deadline starts once the host gate lets the request through, so
            # queueing behind other requests of a polite profile never times out.
            async with gate.slot(polite=polite), asyncio.timeout(self.options.deadline):
                started = time.monotonic()
                request = route.client.build_request("GET", hop)
                response = await route.client.send(request, stream=True)
                try:
                    if response.status_code in _REDIRECT_STATUSES:
                        return response, b"", started
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > raw_limit:
                        raise FetchError(url, "too_large",
                                         f"Content-Length {declared} exceeds {raw_limit} bytes")
                    decoder = BoundedDecoder(response.headers.get("content-encoding", ""),
                                             decoded_limit)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_raw():
                        size += len(chunk)
                        if size > raw_limit:
                            raise FetchError(url, "too_large", f"body exceeds {raw_limit} bytes")
                        chunks.append(decoder.feed(chunk))
                    chunks.append(decoder.flush())
                    return response, b"".join(chunks), started
                finally:
                    await response.aclose()
        except DecodeError as exc:
            raise FetchError(url, "too_large" if exc.too_large else "decoding",
                             str(exc)) from None
        except BlockedAddressError as exc:
            raise FetchError(url, "blocked", f"{exc.reason}{where}") from None
        except TimeoutError:
            gate.penalise()
            raise _Retryable(FetchError(url, "timeout", f"no complete response within "
                                        f"{self.options.deadline:g}s")) from None
        except httpx.TimeoutException as exc:
            gate.penalise()
            raise _Retryable(FetchError(url, "timeout", f"{type(exc).__name__}")) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FetchError(url, "invalid_url", str(exc) or type(exc).__name__) from None
        except httpx.DecodingError as exc:
            raise FetchError(url, "decoding", str(exc) or type(exc).__name__) from None
        except httpx.TransportError as exc:
            gate.penalise()
            via = f" via proxy {route.proxy}" if route.proxy else ""
            raise _Retryable(FetchError(url, "network",
                                        f"{type(exc).__name__}: {exc}".rstrip(": ") + via)
                             ) from None

    async def _check_robots(self, url: str, hop: str, route: _Route) -> None:
        parts = urlsplit(hop)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one robots.txt fetch per origin, however many pages wait
            cached = self._robots.get(origin)
            if cached is None or time.monotonic() - cached.loaded_at > _ROBOTS_TTL:
                cached = self._robots[origin] = await self._load_robots(url, origin, route)
        # Match rules against the User-Agent actually sent (a profile may set its own).
        if cached.parser is not None and not cached.parser.can_fetch(hop, self.user_agent):
            raise FetchError(url, "robots", f"robots.txt of {origin} disallows {hop}")

    async def _load_robots(self, url: str, origin: str, route: _Route) -> _Robots:
        try:
            capture = await self._follow(f"{origin}/robots.txt", route, robots=False,
                                         max_body=_ROBOTS_MAX_BYTES)
        except _Retryable as retry:
            # RFC 9309: an unreachable robots.txt means "disallow all"; not cached,
            # so the next attempt asks again. A network failure keeps its own kind:
            # the page itself would have failed the same way.
            kind = "robots" if retry.error.kind in ("status", "rate_limited") else retry.error.kind
            raise _Retryable(FetchError(url, kind, f"robots.txt of {origin} unavailable "
                                        f"({retry.error.message})"), retry.wait) from None
        except FetchError as exc:
            if exc.kind == "too_large":
                raise FetchError(url, "robots", f"robots.txt of {origin} is too large") from None
            raise FetchError(url, exc.kind, f"robots.txt of {origin}: {exc.message}") from None
        if capture.status >= 400:  # RFC 9309: 4xx means there are no rules
            return _Robots(None, time.monotonic())
        text = capture.body.decode("utf-8", errors="replace")
        return _Robots(Protego.parse(text), time.monotonic())
