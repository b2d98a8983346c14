"""The address check: every class of non-public address is refused, public ones pass."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from crawler.fetch_http import FetchError, FetchOptions, HttpFetcher
from crawler.profiles import Profile
from crawler.ssrf import BlockedAddressError, check_url, system_resolver
from jingwang.records import Capture
from tests.crawler.conftest import Hostile, run

BLOCKED = {
    "http://127.0.0.1/": "loopback",
    "http://127.8.9.10:8080/x": "loopback",
    "http://localhost/": "loopback",
    "http://[::1]/": "loopback",
    "http://0x7f000001/": "loopback",  # hex spelling of 127.0.0.1
    "http://2130706433/": "loopback",  # decimal spelling
    # Octal spelling: httpx (the client's own parser) refuses to parse it at all.
    "http://0177.0.0.1/": "malformed URL",
    "http://[::ffff:127.0.0.1]/": "IPv4-mapped",
    "http://[::ffff:8.8.8.8]/": "IPv4-mapped",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fe80::1]/": "link-local",
    "http://10.0.0.1/": "private",
    "http://172.16.5.4/": "private",
    "http://192.168.1.1/": "private",
    "http://[fd00::1]/": "private",
    "http://100.64.0.1/": "carrier-grade NAT",
    "http://100.127.255.254/": "carrier-grade NAT",
    "http://224.0.0.1/": "multicast",
    "http://[ff02::1]/": "multicast",
    "http://0.0.0.0/": "unspecified",
    "http://[::]/": "unspecified",
    "http://255.255.255.255/": "special-use",
    "http://192.0.2.1/": "special-use",  # documentation range
    "http://[2002:a00:1::1]/": "embedding a non-public IPv4",  # 6to4 of 10.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/": "embedding a non-public IPv4",  # NAT64 of 169.254.169.254
}


@pytest.mark.parametrize("url", list(BLOCKED))
def test_non_public_addresses_are_blocked(url: str) -> None:
    with pytest.raises(BlockedAddressError, match=BLOCKED[url]) as info:
        check_url(url, allow_loopback=False)
    assert info.value.url == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/search", "http://[::1]/",
                                 "http://0x7f000001/", "http://localhost:9/"])
def test_allow_loopback_allows_loopback(url: str) -> None:
    check_url(url, allow_loopback=True)


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://10.0.0.1/",
                                 "http://100.64.0.1/", "http://[::ffff:127.0.0.1]/",
                                 "http://0.0.0.0:8765/"])
def test_allow_loopback_allows_nothing_else(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, allow_loopback=True)


@pytest.mark.parametrize("url", ["http://93.184.216.34/", "https://8.8.8.8:8443/a?b=c",
                                 "http://[2606:4700:4700::1111]/"])
def test_public_addresses_pass(url: str) -> None:
    check_url(url, allow_loopback=False)


@pytest.mark.parametrize(("url", "problem"), [
    ("file:///etc/passwd", "scheme 'file'"),
    ("gopher://8.8.8.8/", "scheme 'gopher'"),
    ("http:///nohost", "no host"),
    ("http://8.8.8.8:99999/", "malformed URL"),
])
def test_other_schemes_and_malformed_urls_are_blocked(url: str, problem: str) -> None:
    with pytest.raises(BlockedAddressError, match=problem):
        check_url(url, allow_loopback=True)


def test_async_check_agrees() -> None:
    from crawler.ssrf import check_url_async

    with pytest.raises(BlockedAddressError, match="link-local"):
        run(check_url_async("http://169.254.169.254/", allow_loopback=True))
    run(check_url_async("http://127.0.0.1/", allow_loopback=True))


# -- over real HTTP, against the hostile sandbox -------------------------------------

def _stand_in(hostile: Hostile, name: str = "sandbox.test") -> tuple[Profile, FetchOptions, str]:
    """A profile that may NOT reach loopback, and a host name that stands in for a public
    platform: an injected resolver answers 127.0.0.1 for it, and the fetcher is told that
    this one name may resolve to loopback. Everything else — a redirect to 127.0.0.1 or to
    169.254.169.254 — is judged by the normal rules. (The test machine has no public
    network, so a real public host is not available; the rest of the path is real:
    resolver → address check → connection to the sandbox → redirect.)"""
    port = urlsplit(hostile.url).port
    assert port is not None

    async def resolver(host: str, port: int) -> list[str]:
        if host == name:
            return ["127.0.0.1"]
        return await system_resolver(host, port)

    profile = hostile.profile().with_changes(allow_loopback=False)
    options = FetchOptions(attempts=1, loopback_hosts=frozenset({name}), resolver=resolver)
    return profile, options, f"http://{name}:{port}"


def _fetch(profile: Profile, options: FetchOptions, url: str) -> Capture:
    async def go() -> Capture:
        async with HttpFetcher(profile, options=options) as fetcher:
            return await fetcher.fetch(url)

    return run(go())


def test_the_stand_in_public_host_is_reachable(hostile: Hostile) -> None:
    profile, options, base = _stand_in(hostile)
    capture = _fetch(profile, options, f"{base}/item/sb-000001")
    assert capture.status == 200 and b"sb-000001" in capture.body
    assert hostile.hits("/item/sb-000001") == 1


@pytest.mark.parametrize(("target", "reason"), [
    ("http://127.0.0.1:{port}/item/sb-000001", "loopback address 127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "link-local address 169.254.169.254"),
    ("http://[::ffff:127.0.0.1]:{port}/", "IPv4-mapped"),
])
def test_redirect_from_an_allowed_host_to_an_internal_address_is_refused(
        hostile: Hostile, target: str, reason: str) -> None:
    profile, options, base = _stand_in(hostile)
    target = target.format(port=urlsplit(hostile.url).port)
    with pytest.raises(FetchError) as info:
        _fetch(profile, options, f"{base}/_redirect?to={target}")
    assert info.value.kind == "blocked"
    assert reason in info.value.message and target in info.value.message
    assert hostile.hits("/_redirect") == 1  # the allowed first hop was fetched …
    assert hostile.hits("/item/") == 0  # … the loopback target never was


def test_dns_rebinding_cannot_slip_between_check_and_connect(hostile: Hostile) -> None:
    """The early check sees a public address; the connection resolves again and gets
    loopback. The pinned connection checks the address it connects to, so it is refused."""
    port = urlsplit(hostile.url).port
    answers: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        answer = "93.184.216.34" if not answers else "127.0.0.1"
        answers.append(answer)
        return [answer]

    profile = hostile.profile().with_changes(allow_loopback=False, robots="ignore")
    options = FetchOptions(attempts=1, resolver=rebinding)
    with pytest.raises(FetchError) as info:
        _fetch(profile, options, f"http://rebind.test:{port}/item/sb-000001")
    assert info.value.kind == "blocked" and "loopback address 127.0.0.1" in info.value.message
    assert answers == ["93.184.216.34", "127.0.0.1"]  # checked early, then at connect
    assert hostile.hits("/") == 0


def test_loopback_profile_still_refuses_other_internal_redirects(hostile: Hostile) -> None:
    with pytest.raises(FetchError) as info:
        _fetch(hostile.profile(), FetchOptions(attempts=1),
               f"{hostile.url}/_redirect?to=http://10.0.0.7/admin")
    assert info.value.kind == "blocked" and "private" in info.value.message
