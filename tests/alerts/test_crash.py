"""A crash between sending and marking, then a restart: every message arrives, once where
the channel deduplicates by idempotency key (webhook) and at least once elsewhere (mail)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.channels import AppriseChannel, WebhookChannel
from alerts.dispatcher import Dispatcher
from store.db import make_engine, upgrade
from store.enums import OutboxStatus
from store.models import Outbox
from store.models_alerts import AlertBatch
from store.outbox_batches import CLAIM_LEASE
from tests.alerts.conftest import (
    ROOT,
    Clock,
    SmtpReceiver,
    WebhookReceiver,
    crawled,
    detect,
    make_store,
    run,
    shipped_router,
)


def test_crash_after_a_webhook_send_then_restart(
        database_url: str, tmp_path: Path, webhook: WebhookReceiver, smtp: SmtpReceiver) -> None:
    _crash_and_restart(database_url, tmp_path, webhook, smtp, crash_on="hook")


def test_crash_after_a_mail_send_then_restart(
        tmp_path: Path, webhook: WebhookReceiver, smtp: SmtpReceiver) -> None:
    _crash_and_restart(f"sqlite:///{tmp_path / 'crash.db'}", tmp_path, webhook, smtp,
                       crash_on="mail")


def _crash_and_restart(database_url: str, tmp_path: Path, webhook: WebhookReceiver,
                       smtp: SmtpReceiver, *, crash_on: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    clock = Clock()
    store, run_id = make_store(engine, tmp_path, clock,
                               shipped_router(tmp_path, receivers="[hook, mail]"))
    for n, title in enumerate(["当天出证", "CE认证包过", "当天出证", "当天出证 包过"]):
        store.ingest(run_id, crawled(str(n), shop=f"店{n}", title=title), detect, channels=())
    clock.tick(31)

    child = subprocess.run(
        [sys.executable, "-m", "tests.alerts.crash_dispatch", database_url, webhook.url,
         smtp.url, clock.now.isoformat(), crash_on],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert child.returncode == -9, child.stdout + child.stderr
    crashed_key = child.stdout.split("sent ", 1)[1].split()[0]
    received = webhook.seen if crash_on == "hook" else smtp.keys()
    assert crashed_key in received  # the channel has it ...
    with Session(engine) as session:  # ... but the outbox never heard
        assert crashed_key not in _sent_batch_keys(session, crash_on)

    # Restart once the lease of the dead dispatcher has run out.
    clock.tick(CLAIM_LEASE.total_seconds() + 1)
    dispatcher = Dispatcher(store, {"hook": WebhookChannel("hook", webhook.url),
                                    "mail": AppriseChannel("mail", smtp.url)}, clock=clock)
    run(dispatcher.run_once())
    clock.tick(600)
    assert run(dispatcher.run_once()).delivered == 0

    with Session(engine) as session:
        statuses = set(session.scalars(select(Outbox.status)))
        batches = {(b.channel, b.idempotency_key) for b in session.scalars(select(AlertBatch))}
    assert statuses == {OutboxStatus.SENT}
    hook_batches = {key for channel, key in batches if channel == "hook"}
    mail_batches = {key for channel, key in batches if channel == "mail"}
    # Webhook: processed exactly the batches, each once, although one may have come twice.
    assert set(webhook.processed) == hook_batches
    # Mail: every batch arrived at least once; the crashed one twice.
    assert set(smtp.keys()) == mail_batches
    if crash_on == "hook":
        assert webhook.seen.count(crashed_key) == 2
        assert len(webhook.processed) == len(hook_batches)
    else:
        assert smtp.keys().count(crashed_key) == 2
        # A webhook send that finished beside the crashed mail but was not yet marked is
        # sent again after the restart; the receiver still processes each batch once.
        assert set(webhook.seen) == hook_batches
        assert len(webhook.processed) == len(hook_batches)
    engine.dispose()


def _sent_batch_keys(session: Session, channel: str) -> set[str]:
    from store.models_alerts import OutboxRoute

    return set(session.scalars(
        select(AlertBatch.idempotency_key)
        .join(OutboxRoute, OutboxRoute.batch_id == AlertBatch.id)
        .join(Outbox, Outbox.id == OutboxRoute.outbox_id)
        .where(Outbox.channel == channel, Outbox.status == OutboxStatus.SENT)))
