"""Routed alerts reach real receivers on loopback: grouped per unit, held by group
timing and office hours, muted by silences, and all delivered once a channel is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alerts.channels import AppriseChannel, Channel, WebhookChannel
from alerts.dispatcher import Dispatcher
from alerts.routing import load_routing
from alerts.units import load_units
from store.enums import LeadStatus
from store.errors import IllegalTransition
from store.models import Outbox
from store.models_review import LeadReferral
from store.outbox_batches import AlertOutbox
from store.service import Referral, Store
from store.silences import Silences
from store.workbench import Workbench
from tests.alerts.conftest import (
    Clock,
    SmtpReceiver,
    WebhookReceiver,
    crawled,
    detect,
    make_store,
    run,
    shipped_router,
    units_file,
)

BASE_URL = "http://127.0.0.1:8000"


def _dispatcher(store: Store, clock: Clock, channels: dict[str, Channel]) -> Dispatcher:
    return Dispatcher(store, channels, clock=clock, base_delay=60, max_delay=600)


def _hook(webhook: WebhookReceiver) -> dict[str, Channel]:
    return {"hook": WebhookChannel("hook", webhook.url, base_url=BASE_URL)}


def _keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(Outbox.idempotency_key)))


def _row_keys(payloads: list[dict[str, Any]]) -> list[str]:
    """The outbox keys a receiver got: a grouped message lists its members."""
    keys = []
    for payload in payloads:
        if payload.get("kind") == "group":
            keys.extend(item["idempotency_key"] for item in payload["items"])
        else:
            keys.append(payload["idempotency_key"])
    return sorted(keys)


def test_new_leads_reach_their_units_grouped(engine: Engine, tmp_path: Path, clock: Clock,
                                            webhook: WebhookReceiver) -> None:
    store, run_id = make_store(engine, tmp_path, clock, shipped_router(tmp_path))
    a = store.ingest(run_id, crawled("1", shop="甲认证"), detect, channels=["ignored"])
    b = store.ingest(run_id, crawled("2", shop="乙认证"), detect, channels=["ignored"])
    c = store.ingest(run_id, crawled("3", shop="丙认证", title="CE认证包过"), detect,
                     channels=["ignored"])
    assert _keys(engine) == sorted([
        f"lead:{a.lead_id}:created:qc-enforcement:hook",
        f"lead:{b.lead_id}:created:qc-enforcement:hook",
        f"lead:{c.lead_id}:created:qc-ip:hook"])
    # The workbench shows the unit routing chose.
    assert Workbench(engine).state(c.lead_id or 0).unit == "知识产权监督管理股"

    dispatcher = _dispatcher(store, clock, _hook(webhook))
    assert run(dispatcher.run_once()).delivered == 0  # group_wait: 30s
    clock.tick(31)
    stats = run(dispatcher.run_once())
    assert (stats.delivered, stats.messages) == (3, 2)
    assert run(dispatcher.run_once()).delivered == 0
    grouped = [p for p in webhook.processed.values() if p.get("kind") == "group"]
    (group,) = grouped
    assert group["unit_name"] == "综合行政执法大队" and group["count"] == 2
    assert {item["shop"] for item in group["items"]} == {"甲认证", "乙认证"}
    assert group["title"] == "【净网】综合行政执法大队：2 条线索通知"
    assert f"{BASE_URL}/leads/{a.lead_id}" in group["text"]
    single = webhook.processed[f"lead:{c.lead_id}:created:qc-ip:hook"]
    assert single["unit_name"] == "知识产权监督管理股" and "新线索" in single["title"]

    # A fourth lead for the same unit waits for group_interval (5m) after the last send.
    d = store.ingest(run_id, crawled("4", shop="丁认证"), detect, channels=())
    clock.tick(31)
    assert run(dispatcher.run_once()).delivered == 0
    clock.tick(300)
    assert run(dispatcher.run_once()).delivered == 1
    assert f"lead:{d.lead_id}:created:qc-enforcement:hook" in webhook.processed
    assert len(webhook.seen) == len(set(webhook.seen)) == 3
    log = AlertOutbox(engine).log()
    assert {r.status.value for r in log} == {"sent"} and len(log) == 4
    assert {r.unit for r in log} == {"qc-enforcement", "qc-ip"}


def test_mail_goes_through_apprise_to_a_real_smtp_server(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock, smtp: SmtpReceiver) -> None:
    store, run_id = make_store(sqlite_engine, tmp_path, clock,
                               shipped_router(tmp_path, receivers="[mail]"))
    result = store.ingest(run_id, crawled("1", shop="<b>某</b>认证",
                                          description="加V详聊 全国可查"), detect, channels=())
    clock.tick(31)
    mail = AppriseChannel("mail", smtp.url, base_url=BASE_URL)
    stats = run(_dispatcher(store, clock, {"mail": mail}).run_once())
    assert stats.delivered == 1
    (message,) = smtp.messages
    key = f"lead:{result.lead_id}:created:qc-enforcement:mail"
    assert smtp.keys() == [key]
    assert "新线索" in str(message["Subject"]) and "<b>某</b>认证" in str(message["Subject"])
    body = message.get_body(preferencelist=("plain", "html"))
    assert body is not None
    text = body.get_content()
    assert f"{BASE_URL}/leads/{result.lead_id}" in text
    assert "承办单位：综合行政执法大队" in text
    assert "引导站外交易/联系" in text and "声称全国/官网可查" in text
    assert key in text


def test_channels_down_for_a_while_get_everything_once_back(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock, webhook: WebhookReceiver,
        smtp: SmtpReceiver) -> None:
    router = shipped_router(tmp_path, receivers="[hook, mail]")
    store, run_id = make_store(sqlite_engine, tmp_path, clock, router)
    titles = ["当天出证", "CE认证包过", "国家级认证 当天出证", "3C认证 当天出证 包过", "当天出证"]
    for n, title in enumerate(titles):
        store.ingest(run_id, crawled(str(n), shop=f"店{n}", title=title), detect, channels=())
    expected = _keys(sqlite_engine)
    assert len(expected) == 2 * 6  # 5 leads; one also goes to the advertising unit
    webhook.up = False
    smtp.stop()
    channels = {"hook": WebhookChannel("hook", webhook.url),
                "mail": AppriseChannel("mail", smtp.url, timeout=2)}
    dispatcher = _dispatcher(store, clock, channels)
    for _ in range(4):  # down for a while: attempts fail and back off
        clock.tick(700)
        stats = run(dispatcher.run_once())
        assert stats.delivered == 0 and stats.retried == len(expected)
    assert webhook.processed == {} and smtp.messages == []
    webhook.up = True
    smtp.start()
    clock.tick(700)
    stats = run(dispatcher.run_once())
    assert stats.delivered == len(expected) and stats.failed == 0
    clock.tick(700)
    assert run(dispatcher.run_once()).delivered == 0
    mine = [k for k in expected if k.endswith(":hook")]
    assert _row_keys(list(webhook.processed.values())) == mine
    assert len(webhook.seen) == len(set(webhook.seen))
    assert len(smtp.messages) == len(webhook.processed)  # the same batches, by mail
    assert len(set(smtp.keys())) == len(smtp.keys())


def test_silences_mute_a_seller_or_a_rule_until_they_end(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock) -> None:
    store, run_id = make_store(sqlite_engine, tmp_path, clock, shipped_router(tmp_path))
    silences = Silences(sqlite_engine, clock=clock)
    first = store.ingest(run_id, crawled("1", shop="甲"), detect, channels=())
    assert len(_keys(sqlite_engine)) == 1
    seller = silences.sellers_of_lead(first.lead_id or 0)
    with pytest.raises(ValueError, match="reason"):
        silences.add(kind="seller", value=str(seller[0]), reason=" ", actor="li",
                     duration=timedelta(days=1))
    silence_id = silences.add(kind="seller", value=str(seller[0]), reason="已约谈，整改中",
                              actor="li", duration=timedelta(days=1))
    store.transition_lead(first.lead_id or 0, LeadStatus.DISMISSED, actor="li", reason="重复")
    muted = store.ingest(run_id, crawled("2", shop="甲"), detect, channels=())
    assert muted.lead_created and len(_keys(sqlite_engine)) == 1
    trail = store.audit_events(object_type="lead", object_id=muted.lead_id or 0)
    assert trail[-1]["action"] == "alert.silenced"
    assert trail[-1]["detail"]["silences"] == [silence_id]

    # A rule silence mutes leads whose every rule it covers.
    silences.add(kind="rule", value="same_day_certificate", reason="词库调整中", actor="li",
                 duration=timedelta(hours=2))
    store.ingest(run_id, crawled("3", shop="乙"), detect, channels=())
    assert len(_keys(sqlite_engine)) == 1
    mixed = store.ingest(run_id, crawled("4", shop="丙", title="当天出证 包过"), detect,
                         channels=())
    assert len(_keys(sqlite_engine)) == 1 + 2  # enforcement and advertising
    assert [s.id for s in silences.rows()] != []

    # Silences end by themselves; an analyst's action is announced regardless.
    clock.tick(3 * 3600)
    assert [s.kind for s in silences.rows()] == ["seller"]
    store.ingest(run_id, crawled("5", shop="丁"), detect, channels=())
    assert len(_keys(sqlite_engine)) == 4
    silences.expire(silence_id, actor="li")
    assert silences.rows() == [] and len(silences.rows(include_ended=True)) == 2
    store.transition_lead(muted.lead_id or 0, LeadStatus.DISMISSED, actor="li", reason="x")
    again = store.ingest(run_id, crawled("6", shop="甲"), detect, channels=())
    assert f"lead:{again.lead_id}:created:qc-enforcement:hook" in _keys(sqlite_engine)
    assert mixed.lead_id


def test_confirm_and_refer_alert_the_right_units_once(
        engine: Engine, tmp_path: Path, clock: Clock) -> None:
    store, run_id = make_store(engine, tmp_path, clock, shipped_router(tmp_path))
    lead_id = store.ingest(run_id, crawled("1"), detect, channels=()).lead_id or 0
    store.transition_lead(lead_id, LeadStatus.IN_REVIEW, actor="li")
    with pytest.raises(IllegalTransition, match="only a move to referred"):
        store.transition_lead(lead_id, LeadStatus.CONFIRMED, actor="li",
                              referral=Referral(unit="法制股"))
    store.transition_lead(lead_id, LeadStatus.CONFIRMED, actor="li")
    store.transition_lead(lead_id, LeadStatus.REFERRED, actor="li",
                          referral=Referral(unit="法制股", platform=True, note="涉嫌伪造"))
    with pytest.raises(IllegalTransition):
        store.transition_lead(lead_id, LeadStatus.REFERRED, actor="li")
    # Referred again to the same unit (a second hand-over is recorded, alerted once)
    # and to the police.
    store.transition_lead(lead_id, LeadStatus.REFERRED, actor="wang",
                          referral=Referral(unit="qc-legal", police=True))
    assert _keys(engine) == sorted([
        f"lead:{lead_id}:created:qc-enforcement:hook",
        f"lead:{lead_id}:confirmed:qc-credit:hook",
        f"lead:{lead_id}:referred-unit:qc-legal:hook",
        f"lead:{lead_id}:referred-platform:qc-enforcement:hook",
        f"lead:{lead_id}:referred-police:qc-legal:hook"])
    with Session(engine) as session:
        referrals = [(r.kind.value, r.target) for r in session.scalars(
            select(LeadReferral).where(LeadReferral.lead_id == lead_id)
            .order_by(LeadReferral.id))]
    assert referrals == [("unit", "法制股"), ("platform", "sandbox"), ("unit", "法制股"),
                         ("police", "公安机关")]
    lead = store.lead(lead_id)
    assert lead is not None and lead.status is LeadStatus.REFERRED
    trail = [e["action"] for e in store.audit_events(object_type="lead", object_id=lead_id)]
    assert trail.count("lead.transition") == 3 and trail.count("lead.refer") == 4
    store.transition_lead(lead_id, LeadStatus.CLOSED, actor="li", reason="已立案查处")
    lead = store.lead(lead_id)
    assert lead is not None and lead.resolution == "已立案查处"


def test_office_hours_hold_messages_until_they_open(
        sqlite_engine: Engine, tmp_path: Path, webhook: WebhookReceiver) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text("""\
route:
  unit: enforcement
  group_wait: 0s
  active_time_intervals: [office]
time_intervals:
  - name: office
    location: Asia/Shanghai
    times: [{weekdays: [monday:friday], start: "08:30", end: "17:30"}]
""", encoding="utf-8")
    router = load_routing(routing, load_units(units_file(tmp_path)))
    saturday = Clock(datetime(2024, 3, 9, 4, 0, tzinfo=UTC))  # Sat 12:00 Beijing
    store, run_id = make_store(sqlite_engine, tmp_path, saturday, router)
    store.ingest(run_id, crawled("1"), detect, channels=())
    dispatcher = _dispatcher(store, saturday, _hook(webhook))
    saturday.tick(24 * 3600)
    assert run(dispatcher.run_once()).delivered == 0
    saturday.now = datetime(2024, 3, 11, 0, 30, tzinfo=UTC)  # Mon 08:30 Beijing
    assert run(dispatcher.run_once()).delivered == 1
    assert len(webhook.processed) == 1
