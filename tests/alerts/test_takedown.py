"""Takedown follow-up against the sandbox: a listing the platform removed is recorded with
its time; one still online after the grace period is escalated to the unit, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from alerts.channels import WebhookChannel
from alerts.dispatcher import Dispatcher
from alerts.takedown import TakedownChecker
from crawler.profiles import load_profiles
from store.enums import LeadStatus
from store.service import Referral
from store.takedown import Takedowns
from tests.alerts.conftest import (
    ROOT,
    Clock,
    WebhookReceiver,
    crawled,
    detect,
    make_store,
    run,
    shipped_router,
)


def test_referred_listings_are_rechecked_and_escalated(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock, sandbox_url: str,
        webhook: WebhookReceiver) -> None:
    router = shipped_router(tmp_path)
    store, run_id = make_store(sqlite_engine, tmp_path, clock, router)
    online = store.ingest(run_id, crawled("sb-000001", url=f"{sandbox_url}/item/sb-000001"),
                          detect, channels=())
    gone = store.ingest(run_id, crawled("gone-1", title="CE认证 当天出证",
                                        url=f"{sandbox_url}/item/gone-1"), detect, channels=())
    lead_id = online.lead_id or 0
    assert gone.lead_id == lead_id
    takedowns = Takedowns(sqlite_engine, clock=clock, router=router)
    checker = TakedownChecker(
        store, takedowns, load_profiles(ROOT / "config" / "platforms"),
        check_interval=timedelta(hours=6), escalate_after=timedelta(days=7),
        base_urls={"sandbox": sandbox_url}, clock=clock)

    # Nothing is followed before the lead is referred to its platform.
    assert run(checker.run_once()).added == 0
    for status in (LeadStatus.IN_REVIEW, LeadStatus.CONFIRMED):
        store.transition_lead(lead_id, status, actor="li")
    store.transition_lead(lead_id, LeadStatus.REFERRED, actor="li",
                          referral=Referral(unit="qc-enforcement", platform=True))
    clock.tick(3600)
    stats = run(checker.run_once())
    assert (stats.added, stats.checked, stats.removed, stats.online, stats.escalated) == (
        2, 2, 1, 1, 0)
    lead = store.lead(lead_id)
    assert lead is not None
    removed = {item.listing_id: item.removed_at for item in lead.listings}
    assert removed == {"sb-000001": None, "gone-1": clock.now}

    assert run(checker.run_once()).checked == 0  # next check in 6h
    clock.tick(7 * 86400)
    stats = run(checker.run_once())
    assert (stats.checked, stats.online, stats.escalated) == (1, 1, 1)
    assert run(checker.run_once()).escalated == 0  # once per listing

    figures = takedowns.stats()
    assert (figures.referred, figures.removed, figures.pending, figures.escalated) == (
        2, 1, 1, 1)
    assert figures.median_hours_to_removal == 1.0
    rows = {r.platform_listing_id: r for r in takedowns.rows(lead_id=lead_id)}
    assert rows["sb-000001"].last_result == "online" and rows["sb-000001"].checks == 2
    assert rows["gone-1"].removed_at is not None and rows["gone-1"].escalated_at is None

    clock.tick(31)
    dispatcher = Dispatcher(store, {"hook": WebhookChannel("hook", webhook.url)}, clock=clock)
    run(dispatcher.run_once())
    (overdue,) = [p for p in webhook.processed.values()
                  if p.get("event") == "takedown_overdue"]
    assert overdue["unit_name"] == "综合行政执法大队"
    assert [item["listing_id"] for item in overdue["overdue"]] == ["sb-000001"]
    assert overdue["title"].startswith("【净网】平台逾期未下架")
    assert "移送平台清理已满 7.0 天" in overdue["text"]


def test_a_closed_lead_is_no_longer_checked(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock, sandbox_url: str) -> None:
    store, run_id = make_store(sqlite_engine, tmp_path, clock, None)
    lead_id = store.ingest(run_id, crawled("sb-000002", url=f"{sandbox_url}/item/sb-000002"),
                           detect, channels=()).lead_id or 0
    for status in (LeadStatus.IN_REVIEW, LeadStatus.CONFIRMED):
        store.transition_lead(lead_id, status, actor="li")
    store.transition_lead(lead_id, LeadStatus.REFERRED, actor="li",
                          referral=Referral(platform=True))
    takedowns = Takedowns(sqlite_engine, clock=clock)
    assert takedowns.sync() == 1 and len(takedowns.due()) == 1
    store.transition_lead(lead_id, LeadStatus.CLOSED, actor="li", reason="平台已清理下架")
    assert takedowns.due() == []
    assert takedowns.escalate(escalate_after=timedelta(0)) == 0
