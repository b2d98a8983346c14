"""Grouped delivery of outbox rows: claim due rows as batches, report each batch's result,
and read the delivery log.

A routed row is sent together with the other due rows of its group (same channel and
group key). The batch is written when it is first claimed and never changes, so if the
sender dies between sending and reporting, the lease runs out and the same members go
out again under the same idempotency key — a receiver that deduplicates sees it once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jingwang.clock import utcnow
from store.db import Transactions
from store.enums import OutboxStatus
from store.models import KEY_LENGTH, Outbox
from store.models_alerts import AlertBatch, OutboxRoute

CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Batch:
    """One message to send: a single outbox row, or several sent as one."""

    channel: str
    idempotency_key: str
    payload: dict[str, Any]
    outbox_ids: tuple[int, ...]
    attempts: int  # this attempt included (1 on the first)


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One outbox row as the delivery log shows it."""

    id: int
    created_at: datetime
    lead_id: int | None
    channel: str
    unit: str | None
    event: str | None
    idempotency_key: str
    batch_key: str | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


def _group_key(channel: str, keys: list[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:32]
    return f"group:{channel}:{digest}"[:KEY_LENGTH]


class AlertOutbox(Transactions):
    """Batches of the outbox for the dispatcher, and the delivery log."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow,
                 lease: timedelta = CLAIM_LEASE) -> None:
        super().__init__(engine, clock=clock)
        self.lease = lease

    def claim(self, *, now: datetime, limit: int = 50) -> list[Batch]:
        """Due messages as batches, leased to the caller; each counts one attempt."""
        with self._write() as session:
            rows = session.execute(
                select(Outbox, OutboxRoute)
                .outerjoin(OutboxRoute, OutboxRoute.outbox_id == Outbox.id)
                .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Outbox)).all()
            batches: list[tuple[str, str, list[tuple[Outbox, OutboxRoute | None]]]] = []
            fixed: dict[int, list[tuple[Outbox, OutboxRoute | None]]] = defaultdict(list)
            groups: dict[tuple[str, str], list[tuple[Outbox, OutboxRoute]]] = defaultdict(list)
            for row, route in rows:
                if route is None:
                    batches.append((row.channel, row.idempotency_key, [(row, None)]))
                elif route.batch_id is not None:
                    fixed[route.batch_id].append((row, route))
                else:
                    groups[(row.channel, route.group_key)].append((row, route))
            for batch_id in fixed:
                batch = session.get(AlertBatch, batch_id)
                assert batch is not None
                fixed_members = session.execute(
                    select(Outbox, OutboxRoute).join(OutboxRoute,
                                                     OutboxRoute.outbox_id == Outbox.id)
                    .where(OutboxRoute.batch_id == batch_id,
                           Outbox.status == OutboxStatus.PENDING)
                    .order_by(Outbox.id).with_for_update(of=Outbox)).all()
                batches.append((batch.channel, batch.idempotency_key,
                                [(row, route) for row, route in fixed_members]))
            for (channel, group_key), grouped in groups.items():
                wait_until = self._group_gate(session, channel, group_key, grouped, now)
                if wait_until is not None:
                    for row, _ in grouped:
                        row.next_attempt_at = wait_until
                    continue
                keys = [row.idempotency_key for row, _ in grouped]
                key = keys[0] if len(grouped) == 1 else _group_key(channel, keys)
                batch = AlertBatch(channel=channel, group_key=group_key, idempotency_key=key,
                                   created_at=now)
                session.add(batch)
                session.flush()
                for _, route in grouped:
                    route.batch_id = batch.id
                batches.append((channel, key, list(grouped)))
            claimed = []
            for channel, key, members in batches:
                for row, _ in members:
                    row.attempts += 1
                    row.next_attempt_at = now + self.lease
                claimed.append(Batch(
                    channel=channel, idempotency_key=key, payload=_payload(members),
                    outbox_ids=tuple(row.id for row, _ in members),
                    attempts=max(row.attempts for row, _ in members)))
            return claimed

    def _group_gate(self, session: Session, channel: str, group_key: str,
                    members: list[tuple[Outbox, OutboxRoute]], now: datetime
                    ) -> datetime | None:
        """When a group last went out less than ``group_interval`` ago, the time its next
        message may go; else None."""
        interval = max(route.group_interval for _, route in members)
        if interval <= 0:
            return None
        last = session.scalar(
            select(func.max(Outbox.sent_at)).join(OutboxRoute,
                                                  OutboxRoute.outbox_id == Outbox.id)
            .where(Outbox.channel == channel, OutboxRoute.group_key == group_key,
                   Outbox.status == OutboxStatus.SENT))
        if last is None:
            return None
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        gate = last + timedelta(seconds=interval)
        return gate if gate > now else None

    def delivered(self, batch: Batch, *, at: datetime) -> None:
        with self._write() as session:
            for row in session.scalars(select(Outbox).where(
                    Outbox.id.in_(batch.outbox_ids)).with_for_update()):
                row.status = OutboxStatus.SENT
                row.sent_at = row.sent_at or at
                row.last_error = None

    def failed(self, batch: Batch, *, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: retry the same batch at ``retry_at``, or give up (None)."""
        with self._write() as session:
            for row in session.scalars(select(Outbox).where(
                    Outbox.id.in_(batch.outbox_ids)).with_for_update()):
                if row.status is OutboxStatus.SENT:
                    continue  # a late report from an expired lease; it did go out
                row.last_error = error
                if retry_at is None:
                    row.status = OutboxStatus.FAILED
                else:
                    row.status = OutboxStatus.PENDING
                    row.next_attempt_at = retry_at

    def retry(self, outbox_ids: list[int], *, now: datetime) -> int:
        """Put given-up rows back in the queue (after fixing a channel); returns how many."""
        with self._write() as session:
            rows = session.scalars(select(Outbox).where(
                Outbox.id.in_(outbox_ids), Outbox.status == OutboxStatus.FAILED)
                .with_for_update()).all()
            for row in rows:
                row.status, row.next_attempt_at, row.attempts = OutboxStatus.PENDING, now, 0
            return len(rows)

    def log(self, *, limit: int = 50, status: str | None = None, channel: str | None = None,
            lead_id: int | None = None, unit: str | None = None) -> list[DeliveryRecord]:
        """The delivery log, newest first."""
        query = (select(Outbox, OutboxRoute, AlertBatch.idempotency_key)
                 .outerjoin(OutboxRoute, OutboxRoute.outbox_id == Outbox.id)
                 .outerjoin(AlertBatch, AlertBatch.id == OutboxRoute.batch_id))
        if status:
            query = query.where(Outbox.status == OutboxStatus(status))
        if channel:
            query = query.where(Outbox.channel == channel)
        if lead_id is not None:
            query = query.where(Outbox.lead_id == lead_id)
        if unit:
            query = query.where(OutboxRoute.unit == unit)
        with self._read() as session:
            return [DeliveryRecord(
                id=row.id, created_at=row.created_at, lead_id=row.lead_id, channel=row.channel,
                unit=route.unit if route else None, event=route.event if route else None,
                idempotency_key=row.idempotency_key, batch_key=batch_key,
                status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                last_error=row.last_error, sent_at=row.sent_at)
                for row, route, batch_key in session.execute(
                    query.order_by(Outbox.created_at.desc(), Outbox.id.desc()).limit(limit))]


def _payload(members: list[tuple[Outbox, OutboxRoute | None]]) -> dict[str, Any]:
    if len(members) == 1:
        return dict(members[0][0].payload)
    first = members[0][0].payload
    return {"kind": "group", "unit": first.get("unit"), "unit_name": first.get("unit_name"),
            "count": len(members),
            "items": [{**row.payload, "idempotency_key": row.idempotency_key}
                      for row, _ in members]}
