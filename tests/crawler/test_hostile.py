"""The fetcher against the hostile sandbox over real HTTP: retries, back-off, caps, robots.

Back-off is measured, not slept: the sandbox stamps every request with its own
clock, and the tests check the gaps between requests against the least wait
the fetcher promises (waits may be longer on a busy machine, never shorter).
"""

from __future__ import annotations

import itertools
import random

import pytest
from pydantic import Field

from crawler.events import CrawlEvent, FetchFailed, PageDone
from crawler.fetch_http import FetchError, FetchOptions, HttpFetcher
from crawler.profiles import Profile, load_profile
from crawler.run import crawl_source, source_profile
from crawler.throttle import PENALTY_FLOOR
from jingwang.config import SourceConfig
from jingwang.records import Capture, CrawledListing
from tests.crawler.conftest import PLATFORMS, Hostile, run

ITEM = "sb-000001"


def fetch(profile: Profile, url: str, options: FetchOptions) -> Capture:
    async def go() -> Capture:
        async with HttpFetcher(profile, options=options) as fetcher:
            return await fetcher.fetch(url)

    return run(go())


def fetch_error(profile: Profile, url: str, options: FetchOptions) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(profile, url, options)
    return info.value


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_5xx_is_retried_with_exponential_backoff(hostile: Hostile) -> None:
    hostile.faults.fail_first = 3
    path = f"/item/{ITEM}"
    options = FetchOptions(attempts=4, backoff=0.2, backoff_max=5)
    capture = fetch(hostile.profile(), hostile.url + path, options)
    assert capture.status == 200 and ITEM.encode() in capture.body
    times = hostile.log.times(path)
    assert len(times) == 4, hostile.log.entries  # three 503s, then the page
    first, second, third = gaps(times)
    # Attempt n waits between half and all of backoff·2^(n-1) (jitter), so each wait is
    # at least the previous one's ceiling halved: 0.1s, 0.2s, 0.4s at the least.
    assert first >= 0.1 and second >= 0.2 and third >= 0.4


def test_5xx_after_the_last_attempt_is_a_status_error(hostile: Hostile) -> None:
    hostile.faults.fail_first = 5
    error = fetch_error(hostile.profile(), f"{hostile.url}/item/{ITEM}",
                        FetchOptions(attempts=2, backoff=0.01))
    assert (error.kind, error.message) == ("status", "HTTP 503")
    assert error.capture is not None and error.capture.status == 503
    assert hostile.hits("/item/") == 2


def test_429_burst_pauses_every_request_to_the_host(hostile: Hostile) -> None:
    hostile.faults.limit_429, hostile.faults.retry_after = 1, 1
    profile = hostile.profile()
    urls = [f"{hostile.url}/item/sb-00000{i}" for i in (1, 2)]

    async def go() -> list[int]:
        async with HttpFetcher(profile, options=FetchOptions(attempts=3, backoff=0)) as fetcher:
            first = await fetcher.fetch(urls[0])  # 429, waits Retry-After, then the page
            second = await fetcher.fetch(urls[1])
            return [first.status, second.status]

    assert run(go()) == [200, 200]
    entries = [(t, p, s) for t, _m, p, s in hostile.log.entries if p.startswith("/item/")]
    assert [s for _t, _p, s in entries] == [429, 200, 200]
    limited_at = entries[0][0]
    assert all(t - limited_at >= 1.0 for t, _p, _s in entries[1:])


def test_errors_slow_the_host_down_and_good_answers_speed_it_up(hostile: Hostile) -> None:
    hostile.faults.fail_first = 2
    profile = hostile.profile()  # rate.delay is 0s

    async def go() -> tuple[float, float]:
        async with HttpFetcher(profile, options=FetchOptions(attempts=2, backoff=0)) as fetcher:
            with pytest.raises(FetchError):
                await fetcher.fetch(f"{hostile.url}/item/sb-000001")  # 503, 503
            after_errors = fetcher.gate(hostile.url).delay
            hostile.faults.fail_first = 0
            for i in range(2, 9):
                await fetcher.fetch(f"{hostile.url}/item/sb-00000{i}")
            return after_errors, fetcher.gate(hostile.url).delay

    after_errors, later = run(go())
    assert after_errors >= 2 * PENALTY_FLOOR  # each 503 doubled the delay
    assert later < after_errors / 8  # seven good answers halved it each time
    first, retry = hostile.log.times("/item/sb-000001")
    assert retry - first >= PENALTY_FLOOR  # the retry waited for the grown delay


def test_random_5xx_and_connection_resets_do_not_lose_listings(hostile: Hostile) -> None:
    hostile.faults.seed = 7
    hostile.faults.error_rate = 0.25
    hostile.faults.reset_first = 1  # every path drops its first connection mid-answer
    source = SourceConfig(name="flaky", platform="sandbox", keywords=["认证"], pages=1)
    profile = hostile.profile().with_changes(rate={"concurrency": 4, "delay": 0,
                                                   "max_delay": 0.05})

    async def go() -> list[CrawlEvent]:
        options = FetchOptions(attempts=8, backoff=0.01, backoff_max=0.05)
        async with HttpFetcher(profile, options=options) as fetcher:
            return [e async for e in crawl_source(source, profile, fetcher)]

    events = run(go())
    assert not [e for e in events if isinstance(e, FetchFailed)]
    assert len([e for e in events if isinstance(e, CrawledListing)]) == 20
    assert [e for e in events if isinstance(e, PageDone)] == [PageDone("认证", 1, 20)]
    statuses = [s for _t, _m, _p, s in hostile.log.entries]
    assert 0 in statuses or any(s >= 500 for s in statuses)  # faults did happen


def test_a_dropped_connection_is_a_retried_network_error(hostile: Hostile) -> None:
    hostile.faults.reset_first = 5
    error = fetch_error(hostile.profile(), f"{hostile.url}/item/{ITEM}",
                        FetchOptions(attempts=2, backoff=0.01))
    assert error.kind == "network"
    assert hostile.hits(f"/item/{ITEM}") == 2


def test_slow_answer_times_out(hostile: Hostile) -> None:
    hostile.faults.slow = 1.0
    error = fetch_error(hostile.profile(), f"{hostile.url}/item/{ITEM}",
                        FetchOptions(attempts=1, deadline=0.3, timeout=0.3))
    assert error.kind == "timeout"


def test_huge_page_is_cut_off(hostile: Hostile) -> None:
    hostile.faults.huge = 3_000_000
    error = fetch_error(hostile.profile(), f"{hostile.url}/item/{ITEM}",
                        FetchOptions(max_body=1_000_000, attempts=1))
    assert error.kind == "too_large"


def test_gzip_bomb_stops_at_the_decompressed_cap(hostile: Hostile) -> None:
    options = FetchOptions(max_body=5_000_000, max_decompressed=2_000_000, attempts=1)
    error = fetch_error(hostile.profile(), f"{hostile.url}/_bomb?mb=64", options)
    assert error.kind == "too_large" and "decodes to more than 2000000" in error.message
    small = fetch(hostile.profile(), f"{hostile.url}/_bomb?mb=1",
                  FetchOptions(max_decompressed=2_000_000))
    assert small.body == b"\0" * (1024 * 1024)  # decoded here, within the cap


def test_malformed_html_still_parses(hostile: Hostile) -> None:
    from crawler.parse import parse_detail
    from jingwang.records import Listing

    hostile.faults.malformed = True
    capture = fetch(hostile.profile(), f"{hostile.url}/item/{ITEM}", FetchOptions())
    assert b"\x00" in capture.body or b"<div<<p>>" in capture.body
    listing = parse_detail(hostile.profile(), capture, platform="sandbox")
    assert isinstance(listing, Listing) and listing.listing_id == ITEM and listing.title


def test_robots_is_respected_by_default_and_can_be_ignored(hostile: Hostile) -> None:
    hostile.faults.robots_disallow = ["/item/"]
    url = f"{hostile.url}/item/{ITEM}"
    error = fetch_error(hostile.profile(), url, FetchOptions())
    assert error.kind == "robots" and hostile.hits("/item/") == 0
    ignoring = hostile.profile().with_changes(robots="ignore")
    assert fetch(ignoring, url, FetchOptions()).status == 200


def test_a_source_overrides_robots_user_agent_and_proxies() -> None:
    """Sources may carry their own ``robots``, ``user_agent`` and ``proxies``."""

    class Overriding(SourceConfig):
        robots: str | None = None
        user_agent: str | None = None
        proxies: list[str] = Field(default_factory=list)

    profile = load_profile(PLATFORMS / "sandbox.yaml")
    plain = SourceConfig(name="a", platform="sandbox")
    assert source_profile(profile, plain) is profile
    custom = Overriding(name="b", platform="sandbox", robots="ignore", user_agent="jw-test/2",
                        proxies=["http://127.0.0.1:3128"])
    changed = source_profile(profile, custom)
    assert (changed.robots, changed.user_agent, changed.proxies) == (
        "ignore", "jw-test/2", ["http://127.0.0.1:3128"])


def test_profile_user_agent_is_sent_and_matched_against_robots(hostile: Hostile) -> None:
    hostile.faults.robots_disallow = ["/item/"]  # for every agent ("User-agent: *")
    profile = hostile.profile().with_changes(user_agent="jw-agent/9")
    fetch_error(profile, f"{hostile.url}/item/{ITEM}", FetchOptions())
    assert hostile.hits("/robots.txt") == 1


def test_jitter_comes_from_the_injected_rng(hostile: Hostile) -> None:
    fetcher = HttpFetcher(hostile.profile(), options=FetchOptions(backoff=1.0),
                          rng=random.Random(3))
    waits = [fetcher._backoff(n) for n in (1, 2, 3)]
    assert [0.5 <= waits[0] <= 1.0, 1.0 <= waits[1] <= 2.0, 2.0 <= waits[2] <= 4.0] == [True] * 3
    run(fetcher.aclose())
