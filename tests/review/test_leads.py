"""The queue and the lead page over HTTP: filters, decisions, bulk actions, notes,
version history, evidence files, and seller content that stays text."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import httpx

from store.enums import LeadStatus
from tests.review.conftest import Workbench


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="lead-link" href="/leads/(\d+)', html)]


def _post(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": client.csrf})  # type: ignore[attr-defined]


def test_queue_filters_sort_and_search(workbench: Workbench,
                                       as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("viewer")
    leads = workbench.seeded.leads
    assert _ids(client.get("/").text) == sorted(leads.values(), reverse=True)
    assert _ids(client.get("/?sort=oldest").text) == sorted(leads.values())
    assert _ids(client.get("/?platform=taobao").text) == [leads["report"]]
    assert _ids(client.get("/?category=national_prefix_misuse").text) == [leads["green"]]
    assert _ids(client.get("/?q=绿源").text) == [leads["green"]]
    assert _ids(client.get("/?q=sb-1005").text) == [leads["report"]]  # listing id
    assert _ids(client.get(f"/?q=%23{leads['iso']}").text) == [leads["iso"]]
    assert _ids(client.get("/?q=100%25").text) == []  # LIKE wildcards are literal
    assert _ids(client.get("/?status=confirmed").text) == []
    assert _ids(client.get("/?from=2999-01-01").text) == []
    assert len(_ids(client.get("/?status=new&category=bogus&min_score=x").text)) == 5
    partial = client.get("/?platform=taobao", headers={"HX-Request": "true",
                                                        "HX-Target": "queue-results"})
    assert "<html" not in partial.text and _ids(partial.text) == [leads["report"]]


def test_confirm_from_new_reviews_claims_and_audits(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead_id = workbench.seeded.leads["green"]
    response = _post(client, f"/leads/{lead_id}/decide", decision="confirm", qs="status=new")
    assert response.status_code == 303
    assert response.headers["location"] == f"/leads/{lead_id}?status=new&msg=decided_confirm"
    page = client.get(response.headers["location"])
    assert "已确认违规。" in page.text and 'id="lead-status">已确认' in page.text
    trail = workbench.store.audit_events(object_type="lead", object_id=lead_id)
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("lead.created", "system"), ("lead.transition", "analyst"), ("lead.claim", "analyst"),
        ("lead.transition", "analyst")]
    assert "负责人" in page.text and ">analyst<" in page.text


def test_dismiss_needs_a_reason_and_lists_it_for_the_lexicon(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead_id = workbench.seeded.leads["iso"]
    refused = _post(client, f"/leads/{lead_id}/decide", decision="dismiss", reason_code="other")
    assert refused.headers["location"].endswith("error=dismiss_reason")
    done = _post(client, f"/leads/{lead_id}/decide", decision="dismiss",
                 reason_code="negation", reason="店铺声明“谨防当天出证骗局”")
    assert done.status_code == 303
    lead = workbench.store.lead(lead_id)
    assert lead is not None and lead.status is LeadStatus.DISMISSED
    assert lead.dismiss_reason == "否定/警示语境：店铺声明“谨防当天出证骗局”"
    page = client.get("/lexicon/dismissals").text
    assert "fake_certificate.same_day" in page and "谨防当天出证骗局" in page
    csv = _post(client, "/lexicon/dismissals.csv")
    assert csv.status_code == 200 and "fake_certificate.same_day" in csv.content.decode("utf-8-sig")


def test_escalate_refer_and_close(workbench: Workbench,
                                  as_role: Callable[[str], httpx.Client]) -> None:
    analyst = as_role("analyst")
    lead_id = workbench.seeded.leads["report"]
    _post(analyst, f"/leads/{lead_id}/decide", decision="escalate", note="涉嫌犯罪，请主管定夺")
    too_early = _post(analyst, f"/leads/{lead_id}/decide", decision="refer", kind="unit",
                      target="法制股")
    assert too_early.headers["location"].endswith("error=refer_unconfirmed")
    _post(analyst, f"/leads/{lead_id}/decide", decision="confirm")
    _post(analyst, f"/leads/{lead_id}/decide", decision="refer", kind="unit",
          target="市局执法支队四大队", note="请依法查处")
    _post(analyst, f"/leads/{lead_id}/decide", decision="refer", kind="police")
    refused = _post(analyst, f"/leads/{lead_id}/decide", decision="close", outcome="case_filed")
    assert refused.status_code == 403  # closing is for supervisors
    supervisor = as_role("supervisor")
    _post(supervisor, f"/leads/{lead_id}/decide", decision="close", outcome="cleaned_up",
          note="平台已下架")
    lead = workbench.store.lead(lead_id)
    assert lead is not None and lead.status is LeadStatus.CLOSED
    assert lead.resolution == "平台已清理下架：平台已下架"
    page = supervisor.get(f"/leads/{lead_id}").text
    assert "市局执法支队四大队" in page and "公安机关" in page and "涉嫌犯罪，请主管定夺" in page
    assert _ids(supervisor.get("/?unit=市局执法支队四大队").text) == [lead_id]
    assert _ids(supervisor.get("/?escalated=1").text) == [lead_id]


def test_claim_is_first_come_and_supervisors_assign(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    analyst = as_role("analyst")
    lead_id = workbench.seeded.leads["green"]
    partial = analyst.post(f"/leads/{lead_id}/claim",
                           headers={"HX-Request": "true",
                                    "X-CSRF-Token": analyst.csrf})  # type: ignore[attr-defined]
    assert partial.status_code == 200 and partial.text.strip() == "analyst"
    assert _ids(analyst.get("/?assignee=me").text) == [lead_id]
    supervisor = as_role("supervisor")
    second = supervisor.post(f"/leads/{lead_id}/claim",
                             headers={"HX-Request": "true",
                                      "X-CSRF-Token": supervisor.csrf})  # type: ignore[attr-defined]
    assert "已由他人认领" in second.text
    _post(supervisor, f"/leads/{lead_id}/assign", username="supervisor")
    assert _ids(analyst.get("/?assignee=me").text) == []
    assert lead_id not in _ids(analyst.get("/?assignee=none").text)


def test_bulk_action_asks_for_confirmation_first(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    leads = workbench.seeded.leads
    ids = [str(leads["iso"]), str(leads["green"])]
    form = {"lead_id": ids, "action": "confirm",
            "csrf_token": client.csrf}  # type: ignore[attr-defined]
    ask = client.post("/leads/bulk", data=form)
    assert ask.status_code == 200 and "确认批量操作" in ask.text and "绿源标准服务中心" in ask.text
    assert all(workbench.store.lead(int(i)).status is LeadStatus.NEW for i in ids)  # type: ignore[union-attr]
    done = client.post("/leads/bulk", data={**form, "confirmed": "1"})
    assert done.status_code == 200 and "成功 2 条" in done.text
    assert all(workbench.store.lead(int(i)).status is LeadStatus.CONFIRMED for i in ids)  # type: ignore[union-attr]
    again = client.post("/leads/bulk", data={**form, "confirmed": "1"})
    assert "成功 0 条，未完成 2 条" in again.text and "不能从" in again.text


def test_notes_are_saved_escaped_and_audited(workbench: Workbench,
                                             as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead_id = workbench.seeded.leads["iso"]
    response = client.post(f"/leads/{lead_id}/notes", data={"body": "<i>电话核实</i>"},
                           headers={"HX-Request": "true",
                                    "X-CSRF-Token": client.csrf})  # type: ignore[attr-defined]
    assert response.status_code == 200 and response.text.startswith('<section id="notes"')
    assert "&lt;i&gt;电话核实&lt;/i&gt;" in response.text
    empty = _post(client, f"/leads/{lead_id}/notes", body="  ")
    assert empty.headers["location"].endswith("error=empty_note")
    trail = workbench.store.audit_events(object_type="lead", object_id=lead_id)
    assert trail[-1]["action"] == "lead.note" and trail[-1]["actor"] == "analyst"


def test_version_history_shows_a_diff(workbench: Workbench,
                                      as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("viewer")
    lead = workbench.store.lead(workbench.seeded.leads["iso"])
    assert lead is not None
    listing = lead.listings[0]
    assert not listing.is_current  # the seller edited the phrase away later
    page = client.get(f"/listings/{listing.id}/versions")
    assert page.status_code == 200
    assert "<del>当天出证</del>" in page.text and "<ins>快速办理</ins>" in page.text
    assert "<del>，包过</del>" in page.text
    assert client.get("/listings/999/versions").status_code == 404


def test_evidence_files_are_served_inert(workbench: Workbench,
                                         as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("viewer")
    lead = workbench.store.lead(workbench.seeded.leads["hostile"])
    assert lead is not None
    by_kind = {e.kind.value: e for e in lead.listings[0].evidence}
    raw = client.get(f"/evidence/{by_kind['html'].sha256}")
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["content-security-policy"].startswith("sandbox")
    assert hashlib.sha256(raw.content).hexdigest() == by_kind["html"].sha256
    snap = client.get(f"/snapshot/{by_kind['html'].sha256}")
    assert snap.headers["content-type"].startswith("text/html")
    csp = snap.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp
    assert "script-src" not in csp and snap.headers["x-content-type-options"] == "nosniff"
    shot = client.get(f"/evidence/{by_kind['screenshot'].sha256}")
    assert shot.headers["content-type"] == "image/png" and shot.content[:4] == b"\x89PNG"
    assert client.get(f"/snapshot/{by_kind['screenshot'].sha256}").status_code == 404
    assert client.get(f"/evidence/{'0' * 64}").status_code == 404
    assert client.get("/evidence/..%2f..%2fetc%2fpasswd").status_code == 404


def test_seller_content_is_escaped_everywhere(workbench: Workbench,
                                              as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead_id = workbench.seeded.leads["hostile"]
    for path in ("/", f"/leads/{lead_id}", "/?q=script"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html and "<b>包过</b>" not in html
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
    page = client.get(f"/leads/{lead_id}")
    csp = page.headers["content-security-policy"]
    assert csp.startswith("default-src 'self'; script-src 'self';")
    assert '<iframe sandbox="" src="/snapshot/' in page.text
    assert re.search(r"<script(?![^>]*\bsrc=\"/static/)", page.text) is None


def test_a_decision_from_a_queue_row_answers_with_the_row(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    lead_id = workbench.seeded.leads["report"]
    row = {"HX-Request": "true", "HX-Target": f"row-{lead_id}"}
    client = as_role("analyst")
    response = client.post(f"/leads/{lead_id}/decide", headers={
        **row, "X-CSRF-Token": client.csrf},  # type: ignore[attr-defined]
        data={"decision": "confirm", "qs": "status=new"})
    assert response.status_code == 200 and response.text.startswith("<tr")
    assert f'data-message="#{lead_id} 已确认违规。"' in response.text
    assert f'href="/leads/{lead_id}?status=new"' in response.text and "已确认" in response.text
    lead = workbench.store.lead(lead_id)
    assert lead is not None and lead.status is LeadStatus.CONFIRMED
    refused = client.post(f"/leads/{lead_id}/decide", headers={
        **row, "X-CSRF-Token": client.csrf},  # type: ignore[attr-defined]
        data={"decision": "dismiss", "reason_code": ""})
    assert refused.status_code == 200 and 'data-message-kind="error"' in refused.text
    assert "排除需要选择理由" in refused.text
    assert workbench.store.lead(lead_id).status is LeadStatus.CONFIRMED  # type: ignore[union-attr]
    viewer = as_role("viewer")
    forbidden = viewer.post(f"/leads/{lead_id}/decide", headers={
        **row, "X-CSRF-Token": viewer.csrf},  # type: ignore[attr-defined]
        data={"decision": "escalate"})
    assert forbidden.status_code == 403 and "当前账号无权执行此操作。" in forbidden.text
    assert workbench.app.state.context.leads.state(lead_id).escalated_at is None
