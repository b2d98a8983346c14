"""HttpFetcher over real HTTP: retries, Retry-After, body cap, redirects, robots.txt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from crawler.fetch_http import FetchError, FetchOptions, HttpFetcher, parse_retry_after
from crawler.profiles import Profile
from jingwang.records import Capture
from tests.crawler.conftest import Site, run
from tests.servers import free_port

FAST = FetchOptions(backoff=0.01, backoff_max=0.05, timeout=5, deadline=10)


def fetch(profile: Profile | None, url: str, options: FetchOptions = FAST) -> Capture:
    async def go() -> Capture:
        async with HttpFetcher(profile, options=options) as fetcher:
            return await fetcher.fetch(url)

    return run(go())


def fetch_error(profile: Profile | None, url: str, options: FetchOptions = FAST) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(profile, url, options)
    return info.value


def key() -> str:
    return uuid.uuid4().hex[:8]


def test_capture_records_the_exchange(site: Site) -> None:
    before = datetime.now(UTC)
    capture = fetch(site.profile, f"{site.url}/item/t-001")
    assert capture.status == 200
    assert capture.url == capture.final_url == f"{site.url}/item/t-001"
    assert capture.fetched_at.tzinfo is not None and capture.fetched_at >= before
    assert capture.headers["content-type"].startswith("text/html")
    assert "检测报告代办 第1号".encode() in capture.body
    assert capture.tool.startswith("jingwang/") and " httpx/" in capture.tool


def test_404_is_a_capture_not_an_error(site: Site) -> None:
    capture = fetch(site.profile, f"{site.url}/item/nope")
    assert capture.status == 404 and "已下架".encode() in capture.body


def test_5xx_is_retried_until_success(site: Site) -> None:
    path = f"/flaky/2/{key()}"
    capture = fetch(site.profile, site.url + path, FetchOptions(attempts=3, backoff=0.01))
    assert capture.status == 200 and capture.body == b"ok"
    assert site.log.hits[path] == 3  # two 503s, then the success


def test_5xx_gives_up_after_the_last_attempt(site: Site) -> None:
    path = f"/always503/{key()}"
    error = fetch_error(site.profile, site.url + path, FetchOptions(attempts=2, backoff=0.01))
    assert (error.kind, error.message) == ("status", "HTTP 503")
    assert error.url == site.url + path
    assert site.log.hits[path] == 2


def test_429_retry_after_is_honoured(site: Site) -> None:
    path = f"/limited/1/{key()}"
    capture = fetch(site.profile, site.url + path, FetchOptions(attempts=2, backoff=0.0))
    assert capture.status == 200
    first, second = site.log.times[path]  # server-side clock of both requests
    assert second - first >= 1.0


def test_429_asking_too_long_fails_without_waiting(site: Site) -> None:
    path = f"/limited/3600/{key()}"
    error = fetch_error(site.profile, site.url + path, FetchOptions(retry_after_max=60))
    assert error.kind == "rate_limited" and "3600" in error.message
    assert site.log.hits[path] == 1


def test_retry_after_accepts_http_dates() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon", now=now) is None


@pytest.mark.parametrize("route", ["big", "big-stream"])
def test_body_over_the_cap_is_an_error(site: Site, route: str) -> None:
    options = FetchOptions(max_body=1000)
    error = fetch_error(site.profile, f"{site.url}/{route}/5000", options)
    assert error.kind == "too_large"
    assert len(fetch(site.profile, f"{site.url}/{route}/900", options).body) == 900


def test_timeout_is_a_fetch_error(site: Site) -> None:
    error = fetch_error(site.profile, f"{site.url}/slow",
                        FetchOptions(attempts=1, deadline=0.2, timeout=0.2))
    assert error.kind == "timeout"


def test_connection_refused_is_a_network_error(site: Site) -> None:
    url = f"http://127.0.0.1:{free_port()}/x"
    error = fetch_error(site.profile, url, FetchOptions(attempts=2, backoff=0.01))
    assert error.kind == "network" and error.url == url


def test_loopback_is_refused_without_allow_loopback(site: Site) -> None:
    closed = site.profile.model_copy(update={"allow_loopback": False})
    error = fetch_error(closed, f"{site.url}/item/t-001")
    assert error.kind == "blocked" and "loopback" in error.message
    assert sum(site.log.hits.values()) == 0  # not even robots.txt was asked for
    error = fetch_error(None, f"{site.url}/item/t-001")  # no profile: same default
    assert error.kind == "blocked"


@pytest.mark.parametrize(("target", "reason"), [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.1.2.3/admin", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("http://0.0.0.0/", "unspecified"),
    ("file:///etc/passwd", "scheme 'file'"),
])
def test_every_redirect_hop_is_checked(site: Site, target: str, reason: str) -> None:
    # The first hop is the loopback test server, which this profile may reach;
    # the hop it redirects to is not loopback and must be refused before any
    # connection is made.
    url = f"{site.url}/redirect?to={target}"
    error = fetch_error(site.profile, url)
    assert error.kind == "blocked"
    assert reason in error.message and target in error.message
    assert site.log.hits["/redirect"] == 1  # a block is not retried


def test_allowed_redirects_are_followed(site: Site) -> None:
    capture = fetch(site.profile, f"{site.url}/redirect?to=/chain/2")
    assert capture.status == 200 and capture.body == b"end of chain"
    assert capture.url == f"{site.url}/redirect?to=/chain/2"
    assert capture.final_url == f"{site.url}/chain/0"


def test_too_many_redirects(site: Site) -> None:
    error = fetch_error(site.profile, f"{site.url}/chain/9", FetchOptions(max_redirects=3))
    assert error.kind == "redirects"
    assert site.log.count("/chain/") == 4


def test_robots_txt_is_obeyed_when_the_profile_says_so(site: Site) -> None:
    error = fetch_error(site.profile, f"{site.url}/private/x")
    assert error.kind == "robots"
    assert site.log.hits["/private/x"] == 0 and site.log.hits["/robots.txt"] == 1
    ignoring = site.profile.model_copy(update={"robots": "ignore"})
    assert fetch(ignoring, f"{site.url}/private/x").body == b"secret"


def test_robots_txt_is_fetched_once_per_origin(site: Site) -> None:
    async def go() -> list[int]:
        async with HttpFetcher(site.profile, options=FAST) as fetcher:
            return [(await fetcher.fetch(f"{site.url}/item/t-00{i}")).status for i in (1, 2, 3)]

    assert run(go()) == [200, 200, 200]
    assert site.log.hits["/robots.txt"] == 1


def test_profile_headers_are_sent(site: Site) -> None:
    default = fetch(site.profile, f"{site.url}/headers").body.decode()
    assert default.startswith("jingwang/") and default.endswith("|zh-CN,zh;q=0.9")
    profile = site.profile.model_copy(update={"headers": {"User-Agent": "jingwang-test/1"}})
    assert fetch(profile, f"{site.url}/headers").body.decode() == "jingwang-test/1|zh-CN,zh;q=0.9"


def test_gbk_page_over_http_parses(site: Site) -> None:
    from crawler.parse import parse_detail
    from jingwang.records import Listing

    capture = fetch(site.profile, f"{site.url}/gbk")
    assert "charset" not in capture.headers["content-type"]
    listing = parse_detail(site.profile, capture, platform="testsite")
    assert isinstance(listing, Listing) and listing.title == "国家级检测报告"
