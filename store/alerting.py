"""What the store needs from an alert router, and how routed alerts become outbox rows.

The router (``alerts.routing.Router``) is pure configuration logic: lead labels in,
deliveries out. The store calls it inside the transaction of the change it announces
and writes one outbox row per delivery there, so an alert is never lost and never sent
for a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.enums import OutboxStatus
from store.ingest import bounded_key
from store.models import KEY_LENGTH, AuditEvent, Outbox
from store.models_alerts import AlertSilence, OutboxRoute

# Events the system raises by itself; silences mute only these. What an analyst does
# (confirm, refer) is announced whatever is silenced: they asked for it.
SYSTEM_EVENTS = frozenset({"created", "reminder"})


@dataclass(frozen=True, slots=True)
class LeadLabels:
    """What a route matcher can see of a lead at one event."""

    event: str
    lead_id: int
    status: str
    categories: tuple[str, ...]
    severity: str
    platforms: tuple[str, ...]
    region: str
    score: float
    signals: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    referral: str = ""  # unit | platform | police, for the "referred" event
    sellers: tuple[int, ...] = ()  # for silences, not a route label

    def values(self, name: str) -> tuple[str, ...]:
        """A label's values as strings (multi-valued labels have several)."""
        match name:
            case "category":
                return self.categories
            case "platform":
                return self.platforms
            case "signal":
                return self.signals
            case "rule":
                return self.rules
            case "score":
                return (f"{self.score:g}",)
            case _:
                return (str(getattr(self, name)),)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one receiver channel of one unit, with its grouping and timing."""

    unit: str | None  # unit id; None for a plain channel without routing
    unit_name: str | None
    channel: str
    group_key: str
    not_before: datetime
    group_interval: float = 0.0
    repeat_interval: float = 0.0


class Router(Protocol):
    def route(self, labels: LeadLabels, *, now: datetime) -> list[Delivery]:
        """Deliveries for an event, one per (unit, receiver), units deduplicated."""
        ...

    def unit_deliveries(self, unit: str, labels: LeadLabels, *,
                        now: datetime) -> list[Delivery]:
        """Deliveries to one unit named by id, role or name (empty if unknown)."""
        ...

    def unit_name(self, unit: str) -> str | None:
        """The display name of a unit named by id, role or name."""
        ...


def active_silences(session: Session, *, now: datetime) -> list[AlertSilence]:
    return list(session.scalars(
        select(AlertSilence).where(AlertSilence.starts_at <= now, AlertSilence.ends_at > now,
                                   AlertSilence.expired_at.is_(None))
        .order_by(AlertSilence.id)))


def silenced_by(session: Session, labels: LeadLabels, *, now: datetime) -> list[int]:
    """Ids of the silences that mute this event: one on a seller of the lead, or rule
    silences that cover every rule the lead has."""
    if labels.event not in SYSTEM_EVENTS:
        return []
    silences = active_silences(session, now=now)
    sellers = {str(s) for s in labels.sellers}
    hits = [s.id for s in silences if s.kind == "seller" and s.value in sellers]
    if hits:
        return hits
    rule_silences = {s.value: s.id for s in silences if s.kind == "rule"}
    if labels.rules and all(rule in rule_silences for rule in labels.rules):
        return sorted({rule_silences[rule] for rule in labels.rules})
    return []


def outbox_key(lead_id: int, event: str, delivery: Delivery) -> str:
    key = f"lead:{lead_id}:{event}:{delivery.unit}:{delivery.channel}" if delivery.unit \
        else f"lead:{lead_id}:{event}:{delivery.channel}"
    return bounded(key)


def bounded(key: str) -> str:
    return bounded_key(key)


def write_deliveries(session: Session, *, lead_id: int | None, key_of: Any,
                     event: str, deliveries: Sequence[Delivery], payload: dict[str, Any],
                     now: datetime) -> list[str]:
    """One outbox row (and its route row) per delivery; a key already written is skipped,
    so announcing the same thing twice sends it once. Returns the keys written."""
    written: list[str] = []
    for delivery in deliveries:
        key = key_of(delivery)
        exists = session.scalar(select(Outbox.id).where(Outbox.idempotency_key == key))
        if exists is not None:
            continue
        body = {**payload, "event": event}
        if delivery.unit is not None:
            body |= {"unit": delivery.unit, "unit_name": delivery.unit_name}
        row = Outbox(lead_id=lead_id, channel=delivery.channel, idempotency_key=key,
                     payload=body, status=OutboxStatus.PENDING, attempts=0,
                     next_attempt_at=max(now, delivery.not_before), created_at=now)
        session.add(row)
        session.flush()
        session.add(OutboxRoute(outbox_id=row.id, unit=delivery.unit, event=event,
                                group_key=delivery.group_key[:KEY_LENGTH],
                                group_interval=delivery.group_interval,
                                repeat_interval=delivery.repeat_interval))
        written.append(key)
    return written


@dataclass(frozen=True, slots=True)
class Announcement:
    """Where an event was routed, and the outbox keys written for it (none when every
    one of them had been written before); true when it was routed anywhere."""

    deliveries: list[Delivery]
    keys: list[str]

    def __bool__(self) -> bool:
        return bool(self.deliveries)


def announce(session: Session, router: Router | None, labels: LeadLabels, *,
             payload: dict[str, Any], now: datetime, event_key: str | None = None,
             unit: str | None = None) -> Announcement:
    """Route one lead event and write its outbox rows in the caller's transaction.

    ``unit`` sends to that unit only (a referral names its unit); otherwise the route
    tree decides. Silenced events write an audit entry instead.
    """
    if router is None:
        return Announcement([], [])
    muted = silenced_by(session, labels, now=now)
    if muted:
        session.add(AuditEvent(at=now, actor="system", action="alert.silenced",
                               object_type="lead", object_id=str(labels.lead_id),
                               detail={"event": labels.event, "silences": muted}))
        return Announcement([], [])
    deliveries = (router.unit_deliveries(unit, labels, now=now) if unit is not None
                  else router.route(labels, now=now))
    event = event_key or labels.event
    keys = write_deliveries(session, lead_id=labels.lead_id,
                            key_of=lambda d: outbox_key(labels.lead_id, event, d),
                            event=labels.event, deliveries=deliveries, payload=payload, now=now)
    return Announcement(deliveries, keys)


def with_event(labels: LeadLabels, event: str, **changes: Any) -> LeadLabels:
    return replace(labels, event=event, **changes)



