"""Claiming due outbox rows, and reporting delivery or failure with retry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.errors import NotFound
from store.service import CLAIM_LEASE, Store
from tests.store.conftest import T0, Clock, crawled, detect


def test_claim_deliver_fail_retry_give_up(store: Store, run_id: int) -> None:
    store.ingest(run_id, crawled(), detect, channels=("log", "webhook", "mail"))
    assert store.counts()["outbox_pending"] == 3
    # Not yet due before its creation time.
    assert store.claim_outbox(now=T0 - timedelta(seconds=1)) == []

    claimed = store.claim_outbox(now=T0, limit=2)
    assert len(claimed) == 2 and all(m.attempts == 1 for m in claimed)
    # Claimed rows are leased: another dispatcher sees only the third.
    (third,) = store.claim_outbox(now=T0)
    assert third.id not in {m.id for m in claimed}
    assert store.claim_outbox(now=T0 + timedelta(seconds=10)) == []

    delivered, retried = claimed
    store.mark_delivered(delivered.id, at=T0 + timedelta(seconds=1))
    store.mark_failed(retried.id, error="HTTP 503", retry_at=T0 + timedelta(minutes=1))
    store.mark_failed(third.id, error="bad URL", retry_at=None)
    counts = store.counts()
    assert (counts["outbox_pending"], counts["outbox_sent"], counts["outbox_failed"]) == (1, 1, 1)

    assert store.claim_outbox(now=T0 + timedelta(seconds=59)) == []
    (again,) = store.claim_outbox(now=T0 + timedelta(minutes=1))
    assert again.id == retried.id and again.attempts == 2
    assert again.idempotency_key == retried.idempotency_key
    assert again.payload == retried.payload
    store.mark_delivered(again.id, at=T0 + timedelta(minutes=2))
    # Sent messages are never claimed again, and a late failure report does not undo them.
    store.mark_failed(again.id, error="late", retry_at=T0 + timedelta(minutes=3))
    assert store.claim_outbox(now=T0 + timedelta(days=1)) == []
    counts = store.counts()
    assert (counts["outbox_pending"], counts["outbox_sent"], counts["outbox_failed"]) == (0, 2, 1)


def test_lease_expires_if_sender_dies(store: Store, run_id: int) -> None:
    store.ingest(run_id, crawled(), detect, channels=("log",))
    (first,) = store.claim_outbox(now=T0)
    assert store.claim_outbox(now=T0 + CLAIM_LEASE - timedelta(seconds=1)) == []
    (again,) = store.claim_outbox(now=T0 + CLAIM_LEASE)
    assert again.id == first.id and again.attempts == 2


def test_claim_oldest_first(store: Store, run_id: int, clock: Clock) -> None:
    store.ingest(run_id, crawled("1", shop_id="a"), detect, channels=("log",))
    clock.tick(5)
    store.ingest(run_id, crawled("2", shop_id="b"), detect, channels=("log",))
    messages = store.claim_outbox(now=T0 + timedelta(minutes=1))
    assert [m.payload["listings"][0]["listing_id"] for m in messages] == ["1", "2"]


def test_unknown_outbox_id(store: Store) -> None:
    with pytest.raises(NotFound):
        store.mark_delivered(12345, at=T0)
    with pytest.raises(NotFound):
        store.mark_failed(12345, error="x", retry_at=None)
