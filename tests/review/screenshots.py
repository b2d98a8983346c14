"""Screenshots of the workbench for the docs: ``python -m tests.review.screenshots``.

Builds a small campaign month (March 2024) through the real store, serves the real app
and photographs the queue, a lead and the statistics page with Debian Chromium into
``docs/screenshots/``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from jingwang.config import SourceConfig
from review.app import create_app
from store.enums import LeadStatus
from store.models_review import ReferralKind
from store.service import Store
from store.workbench import Workbench
from tests.review.conftest import CHROMIUM, CHROMIUM_ARGS, make_store
from tests.review.data import FAST_HASHER, PASSWORD, add_users, crawled, detect
from tests.servers import UvicornThread

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

LISTINGS = [
    ("tb-2201", "ISO9001质量管理体系认证 当天出证 全国可查",
     "不用审核，免送样，包过，加急三天拿证。", "诚信认证服务中心", "taobao"),
    ("tb-2202", "3C认证代办 CCC证书 包过", "专业代办，资料齐全当天出证，不过退款。",
     "快捷检测代理", "taobao"),
    ("jd-3301", "国家级绿色环保认证证书 招标必备", "24小时出证，免送样检测。",
     "绿源标准服务部", "jd"),
    ("pdd-4401", "CMA检测报告 当天出证 可加急", "只需营业执照照片，免送样。",
     "检测报告速办", "pinduoduo"),
    ("xy-5501", "出售现成检测报告 各类产品均有", "包过，全国通用。", "闲置报告铺", "xianyu"),
    ("tb-2203", "食品检测报告代办 包过", "当天出证，全国可查。", "食安检测咨询", "taobao"),
    ("jd-3302", "国家级绿色环保认证 企业荣誉证书", "免送样，七天拿证。", "荣誉证书工作室", "jd"),
]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def build(root: Path) -> tuple[Store, Clock]:
    clock = Clock(datetime(2024, 3, 4, 1, tzinfo=UTC))
    store = make_store(f"sqlite:///{root / 'jw.db'}", root)
    store = Store(store.engine, store.evidence_store, clock=clock)
    review = Workbench(store.engine, clock=clock)
    analyst = add_users(store).accounts.user("analyst")
    assert analyst is not None
    store.sync_source(SourceConfig(name="review-test", platform="taobao", keywords=["认证"]))
    run = store.start_run("review-test")
    leads = []
    for i, (listing_id, title, description, shop, platform) in enumerate(LISTINGS):
        clock.now = datetime(2024, 3, 4 + i * 3, 2 + i, tzinfo=UTC)
        item = crawled(listing_id, title=title, description=description, shop=shop,
                       shop_id=f"shop-{i}", platform=platform, at=clock.now,
                       credit_code=f"91340100MA2TXXXX{i}X" if i % 2 == 0 else None,
                       license_text=f"企业名称：{shop}有限公司" if i % 3 == 0 else None)
        result = store.ingest(run, item, detect, channels=())
        assert result.lead_id is not None
        leads.append(result.lead_id)
    clock.now = datetime(2024, 3, 22, 2, tzinfo=UTC)
    for lead_id in leads[:5]:
        store.transition_lead(lead_id, LeadStatus.IN_REVIEW, actor="analyst")
        review.claim(lead_id, user_id=analyst.id, actor="analyst")
    for lead_id in leads[:3]:
        store.transition_lead(lead_id, LeadStatus.CONFIRMED, actor="analyst")
    store.transition_lead(leads[0], LeadStatus.REFERRED, actor="analyst")
    review.refer(leads[0], kind=ReferralKind.UNIT, target="综合行政执法大队", note="请依法查处",
                 actor="analyst")
    store.transition_lead(leads[1], LeadStatus.REFERRED, actor="analyst")
    review.refer(leads[1], kind=ReferralKind.PLATFORM, target="taobao", note=None,
                 actor="analyst")
    review.refer(leads[1], kind=ReferralKind.POLICE, target="公安机关", note=None,
                 actor="supervisor")
    review.escalate(leads[3], actor="analyst", note="疑似批量出售报告，请主管研判")
    store.transition_lead(leads[4], LeadStatus.DISMISSED, actor="analyst",
                          reason="否定/警示语境：店铺提示谨防包过骗局")
    store.mark_removed(platform="taobao", listing_id="tb-2202",
                       at=datetime(2024, 3, 23, tzinfo=UTC))
    review.add_note(leads[0], author="analyst", body="已电话核实店铺经营者，材料另附。")
    clock.now = datetime(2024, 3, 25, 2, tzinfo=UTC) + timedelta(minutes=5)
    return store, clock


def main() -> int:
    if not CHROMIUM.exists():
        print("needs /usr/bin/chromium", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store, clock = build(Path(tmp))
        app = create_app(store=store, password_hasher=FAST_HASHER, demo_admin="", clock=clock)
        with UvicornThread(app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "supervisor")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/")
            page.keyboard.press("j")
            page.keyboard.press("j")
            page.screenshot(path=str(OUT / "queue.png"), full_page=True)
            page.goto(f"{url}/leads/1")
            # The sandboxed snapshot renders in its own process: give it a tall viewport
            # so a full-page screenshot paints it.
            page.set_viewport_size({"width": 1280, "height": 2300})
            page.frame_locator("iframe[sandbox]").locator("h1").wait_for()
            page.hover("mark.hit")
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT / "lead.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 860})
            page.goto(f"{url}/stats?from=2024-03-01&to=2024-03-31")
            page.screenshot(path=str(OUT / "stats.png"), full_page=True)
            browser.close()
        store.engine.dispose()
    print(f"screenshots written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
