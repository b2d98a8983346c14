"""Sign-in, sessions, CSRF, roles, throttling and API tokens of the workbench."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from review.auth.ratelimit import LoginLimiter
from review.auth.service import AccountError, AuthService, LoginRefused
from store.accounts import Accounts
from tests.review.conftest import Workbench, csrf_of
from tests.review.data import FAST_HASHER, PASSWORD


def test_login_sets_a_hardened_session_cookie(workbench: Workbench) -> None:
    with httpx.Client(base_url=workbench.url, timeout=20) as client:
        form = client.get("/login")
        login_cookie = form.headers["set-cookie"]
        assert "HttpOnly" in login_cookie and "SameSite=strict" in login_cookie
        response = client.post("/login", data={"username": "analyst", "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text), "next": "/"},
                               follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = next(c for c in response.headers.get_list("set-cookie")
                      if c.startswith("jw_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_user_are_refused_alike(workbench: Workbench) -> None:
    with httpx.Client(base_url=workbench.url, timeout=20) as client:
        for name, password in (("analyst", "wrong-password"), ("nobody", PASSWORD)):
            form = client.get("/login")
            response = client.post("/login", data={"username": name, "password": password,
                                                   "csrf_token": csrf_of(form.text)})
            assert response.status_code == 401
            assert "用户名或密码错误" in response.text
            assert "jw_session" not in client.cookies


def test_login_form_needs_its_csrf_token(workbench: Workbench) -> None:
    with httpx.Client(base_url=workbench.url, timeout=20) as client:
        client.get("/login")
        response = client.post("/login", data={"username": "analyst", "password": PASSWORD,
                                               "csrf_token": "forged"})
        assert response.status_code == 403
        assert "jw_session" not in client.cookies


def test_next_never_redirects_off_site(workbench: Workbench) -> None:
    with httpx.Client(base_url=workbench.url, timeout=20) as client:
        form = client.get("/login")
        response = client.post("/login", data={
            "username": "analyst", "password": PASSWORD, "csrf_token": csrf_of(form.text),
            "next": "//evil.example/x"}, follow_redirects=False)
        assert response.headers["location"] == "/"


def test_anonymous_pages_redirect_to_login_and_api_says_401(workbench: Workbench) -> None:
    response = httpx.get(f"{workbench.url}/leads/1?status=new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fleads%2F1%3Fstatus%3Dnew"
    api = httpx.get(f"{workbench.url}/api/v1/leads")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{workbench.url}/healthz").json()["status"] == "ok"
    assert httpx.get(f"{workbench.url}/static/htmx.min.js").status_code == 200


def test_state_changes_need_the_csrf_token(workbench: Workbench,
                                           as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead = workbench.seeded.leads["iso"]
    refused = client.post(f"/leads/{lead}/decide", data={"decision": "confirm"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = client.post(f"/leads/{lead}/decide", data={"decision": "confirm",
                                                        "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    view = workbench.store.lead(lead)
    assert view is not None and view.status.value == "new"
    accepted = client.post(f"/leads/{lead}/decide", data={
        "decision": "confirm", "csrf_token": client.csrf})  # type: ignore[attr-defined]
    assert accepted.status_code == 303
    view = workbench.store.lead(lead)
    assert view is not None and view.status.value == "confirmed"
    # HTMX sends the token as a header instead of a form field.
    header = client.post(f"/leads/{lead}/notes", data={"body": "经核实"},
                         headers={"X-CSRF-Token": client.csrf,  # type: ignore[attr-defined]
                                  "HX-Request": "true"})
    assert header.status_code == 200 and "经核实" in header.text


def test_roles_limit_what_a_user_may_do(workbench: Workbench,
                                        as_role: Callable[[str], httpx.Client]) -> None:
    viewer = as_role("viewer")
    lead = workbench.seeded.leads["iso"]
    assert viewer.get(f"/leads/{lead}").status_code == 200
    denied = viewer.post(f"/leads/{lead}/decide", data={
        "decision": "confirm", "csrf_token": viewer.csrf})  # type: ignore[attr-defined]
    assert denied.status_code == 403
    assert viewer.get("/admin/users").status_code == 403
    analyst = as_role("analyst")
    assert analyst.get("/admin/users").status_code == 403
    stats = analyst.post("/stats/export.xlsx", data={"csrf_token": analyst.csrf})  # type: ignore[attr-defined]
    assert stats.status_code == 403
    admin = as_role("admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "viewer-用户" in page.text


def test_logout_ends_the_session(workbench: Workbench,
                                 as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    token = client.cookies["jw_session"]
    assert client.post("/logout", data={"csrf_token": client.csrf}).status_code == 303  # type: ignore[attr-defined]
    stale = httpx.get(f"{workbench.url}/", cookies={"jw_session": token},
                      follow_redirects=False)
    assert stale.status_code == 303 and stale.headers["location"].startswith("/login")


def test_disabling_a_user_ends_sessions_and_tokens(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    page = client.post("/account/tokens", data={"name": "脚本",
                                                "csrf_token": client.csrf})  # type: ignore[attr-defined]
    token = page.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    api = httpx.get(f"{workbench.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.json()["role"] == "analyst"
    Accounts(workbench.store.engine).set_disabled("analyst", True)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert httpx.get(f"{workbench.url}/api/v1/me",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_login_is_throttled_after_repeated_failures(workbench: Workbench) -> None:
    with httpx.Client(base_url=workbench.url, timeout=20) as client:
        codes = []
        for _ in range(6):
            form = client.get("/login")
            codes.append(client.post("/login", data={
                "username": "supervisor", "password": "guess", "csrf_token": csrf_of(form.text),
            }).status_code)
        assert codes == [401] * 5 + [429]
        form = client.get("/login")
        # Even the right password waits until the window has passed.
        blocked = client.post("/login", data={"username": "supervisor", "password": PASSWORD,
                                              "csrf_token": csrf_of(form.text)})
        assert blocked.status_code == 429


def test_limiter_window_expires_and_success_resets() -> None:
    now = [0.0]
    limiter = LoginLimiter(per_user=2, per_client=10, window=60, clock=lambda: now[0])
    limiter.failed("li", "1.2.3.4")
    limiter.failed("li", "1.2.3.4")
    assert not limiter.allowed("li", "1.2.3.4")
    assert limiter.allowed("wang", "1.2.3.4")
    now[0] = 61
    assert limiter.allowed("li", "1.2.3.4")
    limiter.failed("li", "1.2.3.4")
    limiter.succeeded("li", "1.2.3.4")
    limiter.failed("li", "1.2.3.4")
    assert limiter.allowed("li", "1.2.3.4")


def test_accounts_service_rules(workbench: Workbench) -> None:
    auth = AuthService(Accounts(workbench.store.engine), hasher=FAST_HASHER)
    with pytest.raises(AccountError, match="password too short"):
        auth.add_user("zhang", "short", role="analyst")
    with pytest.raises(AccountError, match="unknown role"):
        auth.add_user("zhang", PASSWORD, role="boss")
    with pytest.raises(AccountError, match="bad username"):
        auth.add_user("<b>", PASSWORD, role="analyst")
    user = auth.add_user("zhang", PASSWORD, role="viewer")
    stored = auth.accounts.credentials("zhang")
    assert stored is not None and stored[1].startswith("$argon2id$")
    assert PASSWORD not in stored[1]
    result = auth.login("zhang", PASSWORD, client="t")
    assert auth.session(result.token) is not None
    auth.set_password("zhang", "another-pass-1")
    assert auth.session(result.token) is None  # a new password ends old sessions
    with pytest.raises(LoginRefused):
        auth.login("zhang", PASSWORD, client="t")
    assert auth.login("zhang", "another-pass-1", client="t").session.user.id == user.id


def test_revoked_token_stops_working(workbench: Workbench) -> None:
    auth = AuthService(Accounts(workbench.store.engine), hasher=FAST_HASHER)
    user = auth.accounts.user("viewer")
    assert user is not None
    token, view = auth.create_token(user, "ci")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{workbench.url}/api/v1/leads", headers=headers).status_code == 200
    assert auth.accounts.revoke_token(user_id=user.id, token_id=view.id)
    assert httpx.get(f"{workbench.url}/api/v1/leads", headers=headers).status_code == 401
    assert httpx.get(f"{workbench.url}/api/v1/leads",
                     headers={"Authorization": "Bearer jw_made-up"}).status_code == 401
