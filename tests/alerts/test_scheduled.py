"""Digests per unit (hourly, daily) and reminders about untouched new leads: written once
per window or round, however often the pass runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alerts.channels import WebhookChannel
from alerts.dispatcher import Dispatcher
from store.enums import LeadStatus
from store.models import Outbox
from store.scheduled import DigestUnit, Scheduled, digest_all
from tests.alerts.conftest import (
    Clock,
    WebhookReceiver,
    crawled,
    detect,
    make_store,
    run,
    shipped_router,
)

ENFORCEMENT = DigestUnit("qc-enforcement", "综合行政执法大队", ("hook",))
IP = DigestUnit("qc-ip", "知识产权监督管理股", ("hook",))


def _keys(engine: Engine, prefix: str) -> list[str]:
    with Session(engine) as session:
        return sorted(k for k in session.scalars(select(Outbox.idempotency_key))
                      if k.startswith(prefix))


def test_reminders_repeat_after_the_interval_while_nobody_acts(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock) -> None:
    router = shipped_router(tmp_path)
    store, run_id = make_store(sqlite_engine, tmp_path, clock, router)
    lead_id = store.ingest(run_id, crawled("1"), detect, channels=()).lead_id
    scheduled = Scheduled(sqlite_engine, clock=clock, router=router)
    clock.tick(3600)
    assert scheduled.remind() == 0
    clock.tick(86400)
    assert scheduled.remind() == 1
    assert scheduled.remind() == 0
    assert _keys(sqlite_engine, f"lead:{lead_id}:reminder") == [
        f"lead:{lead_id}:reminder-1:qc-enforcement:hook"]
    clock.tick(86400)
    assert scheduled.remind() == 1  # round two
    store.transition_lead(lead_id or 0, LeadStatus.IN_REVIEW, actor="li")
    clock.tick(86400)
    assert scheduled.remind() == 0
    assert len(_keys(sqlite_engine, f"lead:{lead_id}:reminder")) == 2


def test_digests_per_unit_once_per_window(sqlite_engine: Engine, tmp_path: Path,
                                          clock: Clock, webhook: WebhookReceiver) -> None:
    router = shipped_router(tmp_path)
    store, run_id = make_store(sqlite_engine, tmp_path, clock, router)
    store.ingest(run_id, crawled("1", shop="甲"), detect, channels=())
    store.ingest(run_id, crawled("2", shop="乙", title="3C认证 当天出证 包过"), detect,
                 channels=())
    scheduled = Scheduled(sqlite_engine, clock=clock, router=router)
    units = [(ENFORCEMENT, ["hourly", "daily"]), (IP, ["daily"])]
    zone = "Asia/Shanghai"
    # Monday 11:00 Beijing: the 10:00–11:00 hour is complete, and so is Sunday (whose
    # daily digest, empty, still goes out: a unit hears every morning).
    clock.tick(3600)
    assert digest_all(scheduled, units, zone=zone, daily_at=8) == 3
    assert digest_all(scheduled, units, zone=zone, daily_at=8) == 0
    assert _keys(sqlite_engine, "digest:") == [
        "digest:daily:20240303T0000:qc-enforcement:hook", "digest:daily:20240303T0000:qc-ip:hook",
        "digest:hourly:20240304T1000:qc-enforcement:hook"]
    clock.tick(3600)  # an hour without news: no hourly digest
    assert digest_all(scheduled, units, zone=zone, daily_at=8) == 0
    clock.now += timedelta(hours=19)  # Tuesday 07:00: the daily one waits for 08:00
    assert digest_all(scheduled, units, zone=zone, daily_at=8) == 0
    clock.tick(3600)
    assert digest_all(scheduled, units, zone=zone, daily_at=8) == 2
    assert _keys(sqlite_engine, "digest:daily:20240304") == [
        "digest:daily:20240304T0000:qc-enforcement:hook",
        "digest:daily:20240304T0000:qc-ip:hook"]

    dispatcher = Dispatcher(store, {"hook": WebhookChannel("hook", webhook.url)}, clock=clock)
    run(dispatcher.run_once())
    daily = webhook.processed["digest:daily:20240304T0000:qc-enforcement:hook"]
    assert daily["counts"]["new"] == 2
    assert daily["by_category"] == {"fake_certificate": 2, "false_advertising": 1}
    assert [t["shop"] for t in daily["top"]] == ["甲", "乙"]
    assert "综合行政执法大队每日线索汇总" in daily["title"]
    assert "新线索：2 条" in daily["text"]
    assert "2024-03-04 00:00 至 2024-03-05 00:00" in daily["text"]
    ip = webhook.processed["digest:daily:20240304T0000:qc-ip:hook"]
    assert ip["counts"]["new"] == 1
