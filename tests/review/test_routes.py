"""Every route of the app, enumerated: none answers an anonymous request (except login,
health and static files), and no state change is accepted without the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fastapi.routing import APIRoute
from starlette.routing import Mount

from tests.review.conftest import Workbench

PUBLIC = {"/login", "/healthz"}
SAMPLE = {"lead_id": "1", "listing_id": "1", "sha256": "0" * 64, "token_id": "1",
          "username": "analyst"}


def _flat(entries: list[Any], prefix: str = "") -> Iterator[Any]:
    for route in entries:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI keeps included routers as one entry
            yield from _flat(included.routes, prefix + route.include_context.prefix)
        elif not isinstance(route, Mount):
            yield prefix, route


def routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, concrete path) for every route, path parameters filled with samples."""
    for prefix, route in _flat(app.routes):
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE[m.group(1)],
                      prefix + route.path)
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                yield method, path


def test_the_app_has_the_routes_we_think(workbench: Workbench) -> None:
    found = set(routes(workbench.app))
    for expected in [("GET", "/"), ("GET", "/leads/1"), ("POST", "/leads/1/decide"),
                     ("POST", "/leads/bulk"), ("POST", "/exports/referral-list"),
                     ("POST", "/leads/1/evidence.zip"), ("GET", "/stats"),
                     ("GET", "/api/v1/leads"), ("GET", "/docs"), ("GET", "/openapi.json"),
                     ("GET", f"/snapshot/{'0' * 64}")]:
        assert expected in found
    assert len(found) > 40
    assert all(isinstance(route, APIRoute) for _, route in _flat(workbench.app.routes))


def test_every_route_refuses_anonymous_requests(workbench: Workbench) -> None:
    checked = 0
    with httpx.Client(base_url=workbench.url, timeout=20, follow_redirects=False) as client:
        for method, path in routes(workbench.app):
            if path in PUBLIC:
                continue
            response = client.request(method, path)
            checked += 1
            if path.startswith(("/api/", "/openapi.json")):
                assert response.status_code == 401, (method, path, response.status_code)
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"].startswith("/login?next="), (method, path)
            assert "jingwang" not in response.text.lower() or path.startswith("/api/")
    assert checked > 40


def test_every_state_change_refuses_a_missing_csrf_token(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    admin = as_role("admin")
    before = workbench.store.counts()["audit_events"]
    checked = 0
    for method, path in routes(workbench.app):
        if method in ("GET", "HEAD", "OPTIONS") or path in PUBLIC:
            continue
        response = admin.request(method, path, data={"decision": "confirm", "lead_id": "1",
                                                     "action": "confirm", "body": "x",
                                                     "name": "t", "unit": "法制股",
                                                     "username": "x", "password": "y" * 9})
        checked += 1
        assert response.status_code == 403, (method, path, response.status_code)
    assert checked >= 15
    assert workbench.store.counts()["audit_events"] == before
    lead = workbench.store.lead(1)
    assert lead is not None and lead.status.value == "new"
