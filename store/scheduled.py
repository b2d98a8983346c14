"""Alerts made by the clock rather than by a change: per-unit digests (hourly, daily) and
reminders about new leads nobody has picked up (the route's ``repeat_interval``).

Each is written with an idempotency key naming its window or round, so running a pass
twice — or after a restart — writes nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from jingwang.clock import utcnow
from store import leads as lead_steps
from store.alerting import (
    Delivery,
    Router,
    announce,
    bounded,
    write_deliveries,
)
from store.db import Transactions
from store.enums import LeadStatus
from store.models import Lead, Outbox
from store.models_alerts import OutboxRoute, Takedown

DIGEST_EVENT = "digest"
TOP_LEADS = 5


@dataclass(frozen=True, slots=True)
class DigestUnit:
    """A unit as the digest needs it."""

    id: str
    name: str
    receivers: tuple[str, ...]


class Scheduled(Transactions):
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow,
                 router: Router | None = None) -> None:
        super().__init__(engine, clock=clock)
        self.router = router

    def digest(self, *, period: str, start: datetime, end: datetime, unit: DigestUnit,
               skip_empty: bool = False) -> int:
        """Write the digest of [start, end) for a unit, once per receiver; returns how
        many rows were written (0 when it exists, or is empty and ``skip_empty``)."""
        now = self.clock()
        with self._write() as session:
            lead_ids = set(session.scalars(
                select(Outbox.lead_id).join(OutboxRoute, OutboxRoute.outbox_id == Outbox.id)
                .where(OutboxRoute.unit == unit.id, Outbox.lead_id.is_not(None))))
            leads = list(session.scalars(select(Lead).where(Lead.id.in_(lead_ids)))) \
                if lead_ids else []

            def within(value: datetime | None) -> bool:
                return value is not None and start <= value < end

            new = [lead for lead in leads if within(lead.created_at)]
            counts = {
                "new": len(new),
                "confirmed": sum(within(lead.confirmed_at) for lead in leads),
                "referred": sum(within(lead.referred_at) for lead in leads),
                "closed": sum(within(lead.closed_at) for lead in leads),
            }
            takedowns = list(session.scalars(select(Takedown).where(
                Takedown.lead_id.in_(lead_ids)))) if lead_ids else []
            counts["removed"] = sum(within(t.removed_at) for t in takedowns)
            counts["overdue"] = sum(t.escalated_at is not None and t.removed_at is None
                                    for t in takedowns)
            # The overdue figure is a standing state, not news of this window.
            if skip_empty and not any(v for k, v in counts.items() if k != "overdue"):
                return 0
            by_category = Counter(c for lead in new for c in lead.categories)
            top = sorted(new, key=lambda lead: (-lead.score, lead.id))[:TOP_LEADS]
            payload = {
                "kind": "digest", "period": period, "unit": unit.id, "unit_name": unit.name,
                "window_start": start.isoformat(), "window_end": end.isoformat(),
                "counts": counts, "by_category": dict(by_category),
                "top": [{k: v for k, v in lead_steps.summary_payload(session, lead, limit=0)
                         .items() if k in ("lead_id", "platform", "shop", "score")}
                        for lead in top],
            }
            window = start.strftime("%Y%m%dT%H%M")
            deliveries = [Delivery(unit=unit.id, unit_name=unit.name, channel=channel,
                                   group_key=f"digest|{unit.id}|{period}|{window}",
                                   not_before=now) for channel in unit.receivers]
            return len(write_deliveries(
                session, lead_id=None, event=DIGEST_EVENT, deliveries=deliveries,
                payload=payload, now=now,
                key_of=lambda d: bounded(f"digest:{period}:{window}:{unit.id}:{d.channel}")))

    def remind(self) -> int:
        """Remind each unit of its new leads still untouched after each ``repeat_interval``
        (round n after n intervals); returns how many leads were reminded about."""
        now = self.clock()
        reminded = 0
        with self._write() as session:
            rows = session.execute(
                select(Lead, OutboxRoute.unit, OutboxRoute.repeat_interval)
                .join(Outbox, Outbox.lead_id == Lead.id)
                .join(OutboxRoute, OutboxRoute.outbox_id == Outbox.id)
                .where(Lead.status == LeadStatus.NEW, OutboxRoute.event == "created",
                       OutboxRoute.unit.is_not(None), OutboxRoute.repeat_interval > 0)
                .order_by(Lead.id)).all()
            seen: set[tuple[int, str]] = set()
            for lead, unit, interval in rows:
                if unit is None or (lead.id, unit) in seen:
                    continue
                seen.add((lead.id, unit))
                rounds = int((now - lead.created_at) / timedelta(seconds=interval))
                if rounds < 1:
                    continue
                labels = lead_steps.labels(session, lead, "reminder")
                payload = lead_steps.summary_payload(session, lead)
                payload["round"] = rounds
                if announce(session, self.router, labels, payload=payload, now=now,
                            event_key=f"reminder-{rounds}", unit=unit).keys:
                    reminded += 1
            return reminded


def digest_windows(period: str, now: datetime, *, zone: str, daily_at: int = 8
                   ) -> tuple[datetime, datetime] | None:
    """The last complete window of ``period`` before ``now`` in the time zone ``zone``:
    the previous hour, or the previous day (local midnight to midnight), which is due
    from ``daily_at`` o'clock on."""
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(zone))
    if period == "hourly":
        end = local.replace(minute=0, second=0, microsecond=0)
        return end - timedelta(hours=1), end
    if period == "daily":
        if local.hour < daily_at:
            return None
        end = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return end - timedelta(days=1), end
    raise ValueError(f"unknown digest period {period!r}")


def digest_all(scheduled: Scheduled, units: Sequence[tuple[DigestUnit, Sequence[str]]], *,
               zone: str, daily_at: int) -> int:
    """Write every digest that is due now for units with their periods; returns rows."""
    now = scheduled.clock()
    written = 0
    for unit, periods in units:
        for period in periods:
            window = digest_windows(period, now, zone=zone, daily_at=daily_at)
            if window is None:
                continue
            written += scheduled.digest(period=period, start=window[0], end=window[1],
                                        unit=unit, skip_empty=period == "hourly")
    return written
