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
