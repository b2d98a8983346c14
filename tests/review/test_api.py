"""The REST API with per-user tokens, and the OpenAPI document behind sign-in."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

import httpx
import pytest
from openpyxl import load_workbook

from review.auth.service import AuthService
from store.accounts import Accounts
from tests.review.conftest import Workbench
from tests.review.data import FAST_HASHER


@pytest.fixture
def api(workbench: Workbench) -> Iterator[Callable[[str], httpx.Client]]:
    auth = AuthService(Accounts(workbench.store.engine), hasher=FAST_HASHER)
    clients: list[httpx.Client] = []

    def make(role: str) -> httpx.Client:
        user = auth.accounts.user(role)
        assert user is not None
        token, _ = auth.create_token(user, "test")
        client = httpx.Client(base_url=f"{workbench.url}/api/v1", timeout=20,
                              headers={"Authorization": f"Bearer {token}"})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_leads_list_filters_and_detail(workbench: Workbench,
                                       api: Callable[[str], httpx.Client]) -> None:
    client = api("viewer")
    page = client.get("/leads", params={"per_page": 2})
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 5 and len(body["items"]) == 2
    taobao = client.get("/leads", params={"platform": "taobao"}).json()["items"]
    assert [item["id"] for item in taobao] == [workbench.seeded.leads["report"]]
    lead_id = workbench.seeded.leads["iso"]
    detail = client.get(f"/leads/{lead_id}").json()
    assert detail["shop_name"] == "速办认证咨询工作室" and detail["status"] == "new"
    finding = detail["listings"][0]["findings"][0]
    assert {"rule", "category", "start", "end", "text", "legal_basis"} <= finding.keys()
    assert client.get("/leads/999").status_code == 404


def test_listing_versions_and_findings(workbench: Workbench,
                                       api: Callable[[str], httpx.Client]) -> None:
    client = api("viewer")
    lead = workbench.store.lead(workbench.seeded.leads["iso"])
    assert lead is not None
    listing_id = lead.listings[0].id
    history = client.get(f"/listings/{listing_id}").json()
    assert len(history["versions"]) == 2 and history["lead_ids"] == [lead.id]
    assert history["versions"][1]["findings"] == []
    findings = client.get(f"/listings/{listing_id}/findings").json()
    assert {f["text"] for f in findings} == {"当天出证", "包过"}


def test_decisions_follow_roles_and_the_life_cycle(
        workbench: Workbench, api: Callable[[str], httpx.Client]) -> None:
    lead_id = workbench.seeded.leads["green"]
    viewer = api("viewer")
    assert viewer.post(f"/leads/{lead_id}/decisions",
                       json={"decision": "confirm"}).status_code == 403
    analyst = api("analyst")
    confirmed = analyst.post(f"/leads/{lead_id}/decisions", json={"decision": "confirm"})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    referred = analyst.post(f"/leads/{lead_id}/decisions", json={
        "decision": "refer", "kind": "platform", "target": "sandbox"})
    assert referred.json()["status"] == "referred"
    assert referred.json()["referrals"][0]["kind"] == "platform"
    illegal = analyst.post(f"/leads/{lead_id}/decisions", json={
        "decision": "dismiss", "reason_code": "duplicate"})
    assert illegal.status_code == 409 and illegal.json()["detail"] == "illegal_move"
    assert analyst.post(f"/leads/{lead_id}/decisions",
                        json={"decision": "nope"}).status_code == 422
    note = analyst.post(f"/leads/{lead_id}/notes", json={"body": "平台已受理"})
    assert note.status_code == 201
    trail = workbench.store.audit_events(object_type="lead", object_id=lead_id)
    assert {e["actor"] for e in trail[1:]} == {"analyst"}


def test_exports_through_the_api(workbench: Workbench,
                                 api: Callable[[str], httpx.Client]) -> None:
    analyst = api("analyst")
    sheet = analyst.get("/exports/referral-list", params={"status": "new", "format": "xlsx"})
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 6
    lead_id = workbench.seeded.leads["report"]
    archive = analyst.get(f"/leads/{lead_id}/evidence.zip")
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert api("viewer").get("/exports/referral-list").status_code == 403


def test_openapi_documents_the_api_behind_sign_in(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    assert httpx.get(f"{workbench.url}/openapi.json").status_code == 401
    client = as_role("viewer")
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/leads", "/api/v1/leads/{lead_id}", "/api/v1/listings/{listing_id}",
            "/api/v1/listings/{listing_id}/findings", "/api/v1/exports/referral-list",
            "/api/v1/stats"} <= paths
    assert not any(p.startswith(("/leads", "/login", "/stats")) for p in paths)
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    docs = client.get("/docs")
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert "script-src 'self'" in docs.headers["content-security-policy"]
