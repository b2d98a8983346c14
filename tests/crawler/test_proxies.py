"""Proxies per source, used in turn; a proxy that fails is skipped for a while."""

from __future__ import annotations

import pytest

from crawler.fetch_http import FetchError, FetchOptions, HttpFetcher
from tests.crawler.conftest import Hostile, run
from tests.crawler.proxy import ForwardProxy
from tests.servers import free_port

ITEMS = [f"/item/sb-00000{i}" for i in range(1, 5)]


def test_requests_rotate_over_the_proxies(hostile: Hostile) -> None:
    async def go() -> tuple[list[str], list[str], list[int]]:
        async with ForwardProxy() as a, ForwardProxy() as b:
            profile = hostile.profile().with_changes(proxies=[a.url, b.url], robots="ignore")
            async with HttpFetcher(profile, options=FetchOptions(attempts=1)) as fetcher:
                statuses = [(await fetcher.fetch(hostile.url + p)).status for p in ITEMS]
            return a.requests, b.requests, statuses

    via_a, via_b, statuses = run(go())
    assert statuses == [200] * 4
    assert via_a == [hostile.url + p for p in ITEMS[0::2]]
    assert via_b == [hostile.url + p for p in ITEMS[1::2]]
    assert hostile.hits("/item/") == 4  # each reached the sandbox once, through a proxy


def test_a_dead_proxy_is_skipped_after_it_fails(hostile: Hostile) -> None:
    dead = f"http://127.0.0.1:{free_port()}"

    async def go() -> tuple[list[str], list[int]]:
        async with ForwardProxy() as live:
            profile = hostile.profile().with_changes(proxies=[dead, live.url], robots="ignore")
            options = FetchOptions(attempts=2, backoff=0.01, proxy_cooldown=60)
            async with HttpFetcher(profile, options=options) as fetcher:
                statuses = [(await fetcher.fetch(hostile.url + p)).status for p in ITEMS]
            return live.requests, statuses

    via_live, statuses = run(go())
    assert statuses == [200] * 4  # the first fetch's retry went through the live proxy
    assert via_live == [hostile.url + p for p in ITEMS]


def test_proxied_requests_are_still_address_checked(hostile: Hostile) -> None:
    async def go() -> list[str]:
        async with ForwardProxy() as proxy:
            profile = hostile.profile().with_changes(proxies=[proxy.url], robots="ignore")
            async with HttpFetcher(profile, options=FetchOptions(attempts=1)) as fetcher:
                with pytest.raises(FetchError) as info:
                    await fetcher.fetch(f"{hostile.url}/_redirect?to=http://169.254.169.254/")
                assert info.value.kind == "blocked"
            return proxy.requests

    # The proxy was asked for the allowed first hop only, never for the metadata address.
    assert run(go()) == [f"{hostile.url}/_redirect?to=http://169.254.169.254/"]
