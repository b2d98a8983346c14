"""The hostile sandbox: faults switch on and off over HTTP; the default app has none of it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.faults import Faults
from sandbox.server import create_app
from tests.conftest import SANDBOX_SEED
from tests.servers import UvicornThread


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[httpx.Client, Faults]]:
    faults = Faults()
    with UvicornThread(create_app(seed=SANDBOX_SEED, faults=faults)) as url, \
            httpx.Client(base_url=url, timeout=10) as client:
        yield client, faults


@pytest.fixture
def client(hostile: tuple[httpx.Client, Faults]) -> Iterator[httpx.Client]:
    client, _faults = hostile
    client.post("/_faults/reset")
    yield client
    client.post("/_faults/reset")


def test_default_app_has_no_admin_routes(sandbox_url: str) -> None:
    for path in ("/_faults", "/_log", "/_bomb", "/login", "/_redirect?to=/"):
        assert httpx.get(sandbox_url + path, timeout=10).status_code == 404


def test_faults_are_switched_over_http(client: httpx.Client) -> None:
    assert client.get("/item/sb-000001").status_code == 200
    switched = client.put("/_faults", json={"challenge": "captcha"})
    assert switched.json()["challenge"] == "captcha"
    page = client.get("/item/sb-000001")
    assert page.status_code == 200 and "请输入验证码" in page.text and "sb-000001" not in page.text
    assert client.put("/_faults", json={"colour": "red"}).status_code == 400
    client.post("/_faults/reset")
    assert "sb-000001" in client.get("/item/sb-000001").text


@pytest.mark.parametrize(("faults", "status", "text"), [
    ({"challenge": "slider"}, 200, "滑块"),
    ({"challenge": "interstitial"}, 503, "Checking your browser"),
    ({"limit_429": 1, "retry_after": 7}, 429, "请求过于频繁"),
    ({"fail_first": 1}, 503, "服务暂时不可用"),
    ({"removed": ["sb-000001"]}, 404, "该商品已下架或不存在"),
    ({"edits": {"sb-000001": "改过的标题"}}, 200, "改过的标题"),
])
def test_each_fault(client: httpx.Client, faults: dict[str, object], status: int,
                    text: str) -> None:
    client.put("/_faults", json=faults)
    response = client.get("/item/sb-000001")
    assert response.status_code == status and text in response.text
    if status == 429:
        assert response.headers["retry-after"] == "7"
        assert client.get("/item/sb-000001").status_code == 200  # the burst is over


def test_login_wall_and_session_cookie(client: httpx.Client) -> None:
    client.put("/_faults", json={"login_wall": True})
    wall = client.get("/item/sb-000001")
    assert wall.status_code == 302 and wall.headers["location"] == "/login?next=/item/sb-000001"
    assert "请登录" in client.get(wall.headers["location"]).text
    logged_in = client.get("/item/sb-000001", headers={"Cookie": "sb_session=ok"})
    assert logged_in.status_code == 200


def test_removed_listings_leave_search_too(client: httpx.Client) -> None:
    before = client.get("/api/search", params={"q": "认证"}).json()
    gone = before["items"][0]["id"]
    client.put("/_faults", json={"removed": [gone]})
    after = client.get("/api/search", params={"q": "认证"}).json()
    assert after["total"] == before["total"] - 1
    assert gone not in [item["id"] for item in after["items"]]
    assert gone not in client.get("/search", params={"q": "认证"}).text


def test_request_log_robots_and_huge_pages(client: httpx.Client) -> None:
    client.put("/_faults", json={"robots_disallow": ["/item/"], "huge": 100_000})
    assert "Disallow: /item/" in client.get("/robots.txt").text
    assert len(client.get("/item/sb-000002").content) > 100_000
    log = client.get("/_log").json()
    assert [(e["path"], e["status"]) for e in log if e["path"] != "/_log"][-2:] == [
        ("/robots.txt", 200), ("/item/sb-000002", 200)]


def test_connection_reset_is_a_transport_error(client: httpx.Client) -> None:
    client.put("/_faults", json={"reset_first": 1})
    with pytest.raises(httpx.TransportError):
        client.get("/item/sb-000003")
    assert client.get("/item/sb-000003").status_code == 200
