"""The campaign's figures on a store whose clock the test moves: what is counted in which
period, the page with its SVG charts, the workbook and the monthly briefing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from review.app import create_app
from review.stats.service import Period, StatsService, month_period
from store.db import make_engine, upgrade
from store.enums import LeadStatus
from store.evidence import EvidenceStore
from store.models_review import ReferralKind
from store.service import Store
from store.workbench import Workbench as ReviewState
from tests.review.conftest import login
from tests.review.data import FAST_HASHER, add_users, crawled, detect
from tests.servers import UvicornThread

MARCH = month_period(2024, 3)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Campaign:
    store: Store
    clock: Clock
    leads: list[int]


@pytest.fixture
def campaign(database_url: str, tmp_path: Path) -> Iterator[Campaign]:
    """Four leads in March 2024 (one in February), worked through their life cycles."""
    upgrade(database_url)
    clock = Clock(datetime(2024, 2, 28, 2, tzinfo=UTC))
    store = Store(make_engine(database_url), EvidenceStore(tmp_path / "ev"), clock=clock)
    review = ReviewState(store.engine, clock=clock)
    from jingwang.config import SourceConfig

    store.sync_source(SourceConfig(name="review-test", platform="sandbox", keywords=["认证"]))
    run = store.start_run("review-test")
    leads = []
    days = [(2, 28), (3, 4), (3, 5), (3, 12), (3, 13)]
    for i, (month, day) in enumerate(days):
        clock.now = datetime(2024, month, day, 2, tzinfo=UTC)
        platform = "taobao" if i == 4 else "sandbox"
        title = "国家级绿色环保认证 当天出证" if i == 2 else "ISO认证 当天出证 包过"
        item = crawled(f"L{i}", title=title, shop=f"店{i}", shop_id=f"s{i}", at=clock.now,
                       platform=platform, screenshot=False)
        result = store.ingest(run, item, detect, channels=())
        assert result.lead_id is not None
        leads.append(result.lead_id)
    clean = crawled("clean", title="当天发货的普通商品", shop="干净店", shop_id="c",
                    at=clock.now, screenshot=False)
    store.ingest(run, clean, detect, channels=())
    clock.now = datetime(2024, 3, 14, 2, tzinfo=UTC)
    for lead_id in leads[:4]:
        store.transition_lead(lead_id, LeadStatus.IN_REVIEW, actor="li")
    for lead_id in leads[:3]:
        store.transition_lead(lead_id, LeadStatus.CONFIRMED, actor="li")
    store.transition_lead(leads[3], LeadStatus.DISMISSED, actor="li", reason="误报")
    store.transition_lead(leads[1], LeadStatus.REFERRED, actor="li")
    review.refer(leads[1], kind=ReferralKind.PLATFORM, target="sandbox", note=None, actor="li")
    review.refer(leads[1], kind=ReferralKind.POLICE, target="公安机关", note=None, actor="li")
    store.transition_lead(leads[2], LeadStatus.REFERRED, actor="li")
    review.refer(leads[2], kind=ReferralKind.UNIT, target="知识产权监督管理股", note=None,
                 actor="li")
    store.mark_removed(platform="sandbox", listing_id="L1",
                       at=datetime(2024, 3, 20, tzinfo=UTC))
    clock.now = datetime(2024, 3, 25, 2, tzinfo=UTC)
    yield Campaign(store, clock, leads)
    store.engine.dispose()


def test_figures_count_each_event_in_its_period(campaign: Campaign) -> None:
    stats = StatsService(campaign.store.engine, clock=campaign.clock)
    figures = stats.figures(MARCH)
    assert figures.totals == {
        "listings_monitored": 5, "leads_found": 4, "confirmed": 3, "dismissed": 1,
        "referred_units": 1, "referred_platform": 1, "cleaned_up": 1, "referred_police": 1,
        "closed": 0}
    platforms = {p.platform: p for p in figures.by_platform}
    assert (platforms["sandbox"].leads, platforms["taobao"].leads) == (3, 1)
    assert platforms["sandbox"].cleaned_up == 1 and platforms["sandbox"].referred_platform == 1
    categories = {c: (found, confirmed) for c, found, confirmed in figures.by_category}
    assert categories["fake_certificate"] == (4, 3)
    assert categories["national_prefix_misuse"] == (1, 1)
    assert figures.by_unit == (("知识产权监督管理股", 1),)
    weeks = {w.monday: (w.leads, w.confirmed, w.referred) for w in figures.by_week}
    assert weeks[date(2024, 3, 4)] == (2, 0, 0)
    assert weeks[date(2024, 3, 11)] == (2, 3, 2)
    assert weeks[date(2024, 2, 26)] == (0, 0, 0)  # the week of March 1st, lead from Feb 28
    february = stats.figures(month_period(2024, 2))
    assert february.totals["leads_found"] == 1 and february.totals["confirmed"] == 0
    assert stats.figures(Period(date(2024, 4, 1), date(2024, 4, 30))).totals["leads_found"] == 0
    assert stats.default_period() == Period(date(2024, 3, 1), date(2024, 3, 25))


def test_stats_page_workbook_and_briefing(campaign: Campaign) -> None:
    add_users(campaign.store)
    app = create_app(store=campaign.store, password_hasher=FAST_HASHER, demo_admin="",
                     clock=campaign.clock)
    with UvicornThread(app) as url:
        supervisor = login(url, "supervisor")
        try:
            page = supervisor.get("/stats?from=2024-03-01&to=2024-03-31")
            assert page.status_code == 200
            assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page.text
            assert 'id="total-leads_found"><span class="value">4</span>' in page.text
            assert "对应验收标准第 6、9 项" in page.text
            token = supervisor.csrf  # type: ignore[attr-defined]
            book = supervisor.post("/stats/export.xlsx", data={
                "from": "2024-03-01", "to": "2024-03-31", "csrf_token": token})
            assert book.status_code == 200
            sheets = load_workbook(io.BytesIO(book.content))
            assert sheets.sheetnames == ["总体情况", "分平台", "分类别", "分单位", "分周"]
            totals = {row[0]: row[1] for row in sheets["总体情况"].iter_rows(min_row=3,
                                                                           values_only=True)}
            assert totals["发现线索"] == 4 and totals["移送公安机关"] == 1
            briefing = supervisor.post("/stats/briefing.docx", data={
                "month": "2024-03", "authority": "泉州市洛江区市场监督管理局",
                "csrf_token": token})
            assert briefing.status_code == 200
            text = "\n".join(p.text for p in Document(io.BytesIO(briefing.content)).paragraphs)
            assert "信息简报" in text and "2024年03月01日至2024年03月31日" in text
            assert "发现涉嫌虚假认证、虚假宣传等违法线索 4 条" in text
            assert "泉州市洛江区市场监督管理局" in text
            bad = supervisor.post("/stats/briefing.docx", data={"month": "2024-13",
                                                                "csrf_token": token})
            assert bad.status_code == 303
            api = supervisor.get("/api/v1/stats?from=2024-03-01&to=2024-03-31").json()
            assert api["totals"]["confirmed"] == 3 and api["by_unit"] == [
                {"unit": "知识产权监督管理股", "leads": 1}]
        finally:
            supervisor.close()
    exports = campaign.store.audit_events(object_type="export",
                                          object_id="信息简报-2024年03月.docx")
    assert exports and exports[0]["actor"] == "supervisor"


def test_week_chart_labels_are_escaped() -> None:
    from review.stats.charts import columns, hbar

    svg = str(hbar("t", [("<script>x</script>", (3,))], ("a&b",)))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    assert str(columns("w", ["03-04"], [(1, 2)], ("x", "y"))).count("<rect") == 4


def test_period_is_whole_china_days() -> None:
    period = Period(date(2024, 3, 1), date(2024, 3, 31))
    assert period.start == datetime(2024, 2, 29, 16, tzinfo=UTC)
    assert period.end - period.start == timedelta(days=31)
    with pytest.raises(ValueError):
        month_period(2024, 13)
