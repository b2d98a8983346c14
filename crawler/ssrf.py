"""Refuse URLs whose host resolves to an address a crawler must never reach.

Listing pages are hostile: a seller (or a compromised platform) can point a
link or a redirect at ``http://169.254.169.254/`` or at the bureau's intranet.
Every hop is checked, and the check is made where the connection is made:
:class:`PinnedBackend` resolves the host once, refuses non-public addresses and
connects to exactly the addresses it checked, so a DNS answer that changes
between check and connect (DNS rebinding) cannot slip through. URLs are parsed
with httpx's parser, the one the client uses. Loopback is permitted only for
profiles marked ``allow_loopback`` (the sandbox and tests), or for host names a
fetcher is explicitly told may resolve to loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) → the addresses to connect to, as text.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_ALLOWED_SCHEMES = ("http", "https")


class BlockedAddressError(Exception):
    """The URL's scheme or one of its host's addresses is not allowed."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class ResolveError(OSError):
    """The URL's host name could not be resolved (a network failure, not a block)."""


def classify(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None when it is one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            # Mapped addresses reach IPv4 hosts through the IPv6 stack; nothing
            # legitimate needs them and they are a classic filter bypass.
            return f"IPv4-mapped IPv6 address ({ip.ipv4_mapped})"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = classify(embedded)
            if inner is not None:
                return f"IPv6 address embedding a non-public IPv4 address: {inner}"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT address (100.64.0.0/10)"
    if ip.is_private:
        return "private or special-use address"
    if ip.is_reserved or not ip.is_global:
        return "reserved or non-global address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_addresses(url: str, addresses: Iterable[str], *, allow_loopback: bool) -> None:
    """Raise :class:`BlockedAddressError` if any resolved address is not allowed.

    All addresses must pass, not just one: the connection may use any of them.
    """
    for text in addresses:
        # getaddrinfo may return scoped IPv6 addresses such as "fe80::1%eth0".
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        if allow_loopback and ip.is_loopback:
            continue
        reason = classify(ip)
        if reason is not None:
            raise BlockedAddressError(url, f"{reason} {ip} is not allowed")


def host_and_port(url: str) -> tuple[str, int]:
    """The host (IDNA-encoded, IPv6 without brackets) and port, parsed as httpx parses."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BlockedAddressError(url, f"malformed URL ({exc})") from None
    if parsed.scheme not in _ALLOWED_SCHEMES:
        raise BlockedAddressError(url, f"scheme {parsed.scheme!r} is not allowed")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise BlockedAddressError(url, "URL has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise BlockedAddressError(url, f"malformed URL (port {port} out of range)")
    return host, port


def _addresses(infos: Iterable[tuple[Any, Any, Any, Any, tuple[Any, ...]]]) -> list[str]:
    # Keep getaddrinfo's order (it is the preferred connection order), without repeats.
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``getaddrinfo``) without blocking the loop."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolveError(f"cannot resolve {host!r}: {exc}") from None
    return _addresses(infos)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a fetcher may connect to, and how it resolves names.

    ``loopback_hosts`` are host names allowed to resolve to loopback even when
    ``allow_loopback`` is off (a test's stand-in for a public host name).
    """

    allow_loopback: bool = False
    loopback_hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, compare=False)

    def loopback_ok(self, host: str) -> bool:
        return self.allow_loopback or host.lower() in self.loopback_hosts

    async def resolve_checked(self, url: str, host: str, port: int) -> list[str]:
        """Resolve ``host`` and refuse the URL unless every address is allowed."""
        addresses = await self.resolver(host, port)
        if not addresses:
            raise ResolveError(f"cannot resolve {host!r}: no addresses")
        check_addresses(url, addresses, allow_loopback=self.loopback_ok(host))
        return addresses

    async def check(self, url: str) -> None:
        """Check ``url``'s scheme and resolved addresses (used where no pinning is possible)."""
        host, port = host_and_port(url)
        await self.resolve_checked(url, host, port)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses it has just checked.

    httpcore hands it the URL's host; it resolves that host itself, refuses the
    connection with :class:`BlockedAddressError` if any address is not allowed,
    and opens the TCP connection to a checked address. TLS still uses the host
    name (SNI and certificate checks), as does the ``Host`` header.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        shown = f"[{host}]" if ":" in host else host
        url = f"//{shown}:{port}"
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.policy.resolve_checked(url, host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from None
        except ResolveError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError(path, "unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def check_url(url: str, *, allow_loopback: bool) -> None:
    """Resolve the URL's host and refuse non-public addresses (blocking DNS lookup)."""
    host, port = host_and_port(url)
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = _addresses(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (socket.gaierror, UnicodeError) as exc:
            raise ResolveError(f"cannot resolve {host!r}: {exc}") from None
    check_addresses(url, addresses, allow_loopback=allow_loopback)


async def check_url_async(url: str, *, allow_loopback: bool) -> None:
    """:func:`check_url` without blocking the event loop."""
    await AddressPolicy(allow_loopback=allow_loopback).check(url)
