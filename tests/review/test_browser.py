"""End to end in Debian Chromium: sign in, work leads with the keyboard, download the
XLSX and the evidence ZIP and check them, and hostile listings that never run."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from store.enums import LeadStatus
from tests.review.conftest import Workbench
from tests.review.data import FORMULA_TITLE, PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Any, workbench: Workbench) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.problems = []
    tab.on("dialog", lambda dialog: (tab.problems.append(f"dialog: {dialog.message}"),
                                     dialog.dismiss()))
    tab.on("console", lambda msg: tab.problems.append(f"console: {msg.text}")
           if msg.type == "error" else None)
    yield tab
    context.close()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_work_leads_with_the_keyboard(page: Any, workbench: Workbench) -> None:
    base = workbench.url
    sign_in(page, base, "analyst")
    page.fill("#q", "认证")
    expect(page.locator("tr.lead-row")).to_have_count(2)
    assert "q=%E8%AE%A4%E8%AF%81" in page.url  # HTMX pushed the filter into the URL
    page.goto(f"{base}/?sort=oldest")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.get_attribute("tr.lead-row.selected", "id") == \
        f"row-{workbench.seeded.leads['green']}"
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    first = workbench.seeded.leads["iso"]
    page.wait_for_url(f"{base}/leads/{first}?sort=oldest")
    page.keyboard.press("c")
    page.wait_for_url("**msg=decided_confirm")
    assert page.inner_text("#lead-status") == "已确认"
    page.keyboard.press("j")
    second = workbench.seeded.leads["green"]
    page.wait_for_url(f"{base}/leads/{second}?sort=oldest")
    page.keyboard.press("d")
    assert page.is_visible("#dismiss-dialog")
    page.select_option("select[name=reason_code]", "everyday_phrase")
    page.fill("#dismiss-dialog textarea[name=reason]", "正常检测服务介绍")
    page.click("#decide-dismiss button[type=submit]")
    page.wait_for_url("**msg=decided_dismiss")
    page.keyboard.press("e")  # a dismissed lead cannot be escalated: nothing happens
    page.keyboard.press("?")
    assert page.is_visible("#help")
    assert workbench.store.lead(first).status is LeadStatus.CONFIRMED  # type: ignore[union-attr]
    dismissed = workbench.store.lead(second)
    assert dismissed is not None and dismissed.status is LeadStatus.DISMISSED
    assert dismissed.dismiss_reason == "日常用语，与认证检测无关：正常检测服务介绍"
    assert page.problems == []


def test_export_xlsx_and_read_it_back(page: Any, workbench: Workbench) -> None:
    sign_in(page, workbench.url, "analyst")
    page.goto(f"{workbench.url}/exports")
    page.check("input[name=status][value=new]")
    with page.expect_download() as info:
        page.click("#export-referral-list")
    download = info.value
    assert download.suggested_filename.startswith("线索移送清单-")
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "线索编号", "平台") and len(rows) == 6
    titles = {row[7] for row in rows[1:]}
    assert "'" + FORMULA_TITLE in titles  # the formula payload came out as text
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert page.problems == []


def test_download_the_evidence_zip_and_verify_hashes(page: Any, workbench: Workbench) -> None:
    sign_in(page, workbench.url, "analyst")
    lead_id = workbench.seeded.leads["iso"]
    page.goto(f"{workbench.url}/leads/{lead_id}")
    with page.expect_download() as info:
        page.click("#evidence-zip")
    data = Path(info.value.path()).read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["lead_id"] == lead_id and len(manifest["files"]) == 3
    for item in manifest["files"]:
        assert hashlib.sha256(archive.read(item["path"])).hexdigest() == item["sha256"]
    shown = page.inner_text("table.files")
    assert all(item["sha256"] in shown for item in manifest["files"])


def test_hostile_listings_render_inert(page: Any, workbench: Workbench) -> None:
    sign_in(page, workbench.url, "supervisor")
    lead_id = workbench.seeded.leads["hostile"]
    page.goto(f"{workbench.url}/?q=script")
    assert page.locator("tr.lead-row").count() == 1
    page.goto(f"{workbench.url}/leads/{lead_id}")
    frame = page.frame_locator("iframe[sandbox]")
    assert frame.locator("h1").inner_text() == "当天出证"  # the snapshot is shown …
    page.hover("mark.hit")
    assert page.locator("main a:has-text('点我')").count() == 0  # no link was made
    lead = workbench.store.lead(lead_id)
    assert lead is not None
    page.goto(f"{workbench.url}/listings/{lead.listings[0].id}/versions")
    page.goto(f"{workbench.url}/lexicon/dismissals")
    page.goto(f"{workbench.url}/leads/{lead_id}")
    page.wait_for_timeout(300)
    dialogs = [p for p in page.problems if p.startswith("dialog")]
    assert dialogs == []  # … and nothing in it ever ran
    expect(page.locator("script:not([src])")).to_have_count(0)
    title = page.inner_text("h3.listing-title")
    assert '<script>alert("title")</script>' in title  # shown as text


def queue_row(page: Any, lead_id: int) -> Any:
    return page.locator(f"#row-{lead_id}")


def test_confirm_the_selected_lead_from_the_queue(page: Any, workbench: Workbench) -> None:
    base = workbench.url
    sign_in(page, base, "analyst")
    page.goto(f"{base}/?sort=oldest&status=new")
    first = workbench.seeded.leads["iso"]
    page.keyboard.press("j")
    page.keyboard.press("c")
    expect(queue_row(page, first).locator(".status")).to_have_text("已确认")
    expect(page.locator("#queue-message")).to_have_text(f"#{first} 已确认违规。")
    assert page.url == f"{base}/?sort=oldest&status=new"  # still on the queue
    assert page.get_attribute("tr.lead-row.selected", "id") == f"row-{first}"
    lead = workbench.store.lead(first)
    assert lead is not None and lead.status is LeadStatus.CONFIRMED
    trail = workbench.store.audit_events(object_type="lead", object_id=first)
    assert trail[-1]["action"] == "lead.transition" and trail[-1]["actor"] == "analyst"
    page.keyboard.press("j")  # the cursor keeps working after the swap
    assert page.get_attribute("tr.lead-row.selected", "id") == \
        f"row-{workbench.seeded.leads['green']}"
    assert queue_row(page, first).get_attribute("aria-selected") is None
    page.keyboard.press("k")
    page.keyboard.press("Enter")  # the swapped row still opens, filter kept
    page.wait_for_url(f"{base}/leads/{first}?status=new&sort=oldest")
    assert page.inner_text("#lead-status") == "已确认"
    assert page.problems == []


def test_escalate_the_selected_lead_from_the_queue(page: Any, workbench: Workbench) -> None:
    base = workbench.url
    sign_in(page, base, "analyst")
    page.goto(f"{base}/?sort=oldest")
    second = workbench.seeded.leads["green"]
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("e")
    expect(queue_row(page, second).locator(".badge.escalated")).to_have_count(1)
    expect(queue_row(page, second).locator(".status")).to_have_text("审核中")
    expect(page.locator("#queue-message")).to_have_text(f"#{second} 已上报主管。")
    state = workbench.app.state.context.leads.state(second)
    assert state.escalated_at is not None and state.escalated_by == "analyst"
    assert state.assignee == "analyst"  # escalating a new lead starts its review
    page.keyboard.press("?")
    assert page.is_visible("#help")
    assert page.locator("#help").inner_text().count("上报主管") == 2  # queue and lead page
    assert page.problems == []


def test_dismiss_from_the_queue_asks_for_a_reason(page: Any, workbench: Workbench) -> None:
    base = workbench.url
    sign_in(page, base, "analyst")
    page.goto(f"{base}/?sort=oldest")
    first = workbench.seeded.leads["iso"]
    page.keyboard.press("j")
    page.keyboard.press("d")
    assert page.is_visible("#queue-dismiss-dialog")
    assert page.inner_text("#queue-dismiss-lead") == f"#{first}"
    page.keyboard.press("c")  # typing in the dialog never decides behind it
    page.click("#queue-dismiss button[type=submit]")  # no reason chosen: the form refuses
    assert page.is_visible("#queue-dismiss-dialog")
    lead = workbench.store.lead(first)
    assert lead is not None and lead.status is LeadStatus.NEW
    page.select_option("#queue-dismiss select[name=reason_code]", "negation")
    page.fill("#queue-dismiss textarea[name=reason]", "店铺写明不代办")
    page.click("#queue-dismiss button[type=submit]")
    expect(queue_row(page, first).locator(".status")).to_have_text("已排除")
    assert not page.is_visible("#queue-dismiss-dialog")
    dismissed = workbench.store.lead(first)
    assert dismissed is not None and dismissed.status is LeadStatus.DISMISSED
    assert dismissed.dismiss_reason is not None and dismissed.dismiss_reason.endswith(
        "：店铺写明不代办")
    page.keyboard.press("c")  # the life cycle still rules: a dismissed lead stays so
    expect(page.locator("#queue-message")).to_have_text(
        f"#{first} 不能从“已排除”变更为“已确认”。")
    expect(page.locator("#queue-message")).to_have_class("queue-message error")
    assert workbench.store.lead(first).status is LeadStatus.DISMISSED  # type: ignore[union-attr]
    assert page.problems == []


def test_a_viewer_is_refused_on_the_queue(page: Any, workbench: Workbench) -> None:
    base = workbench.url
    sign_in(page, base, "viewer")
    page.goto(f"{base}/?sort=oldest")
    first = workbench.seeded.leads["iso"]
    page.keyboard.press("j")
    for key in ("c", "e", "d"):
        page.evaluate("document.getElementById('queue-message').textContent = ''")
        page.keyboard.press(key)
        expect(page.locator("#queue-message")).to_have_text("当前账号无权执行此操作。")
    assert page.locator("#queue-dismiss-dialog").count() == 0
    expect(queue_row(page, first).locator(".status")).to_have_text("新线索")
    assert page.get_attribute("tr.lead-row.selected", "id") == f"row-{first}"
    lead = workbench.store.lead(first)
    assert lead is not None and lead.status is LeadStatus.NEW
    assert workbench.app.state.context.leads.state(first).escalated_at is None
    # The browser logs each refused request (403); nothing else went wrong.
    assert len(page.problems) == 3 and all("403" in p for p in page.problems)
