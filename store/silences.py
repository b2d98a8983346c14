"""Silences: an analyst mutes a seller or a rule for a while, with a reason.

A silence ends by itself at ``ends_at`` (or earlier, when someone expires it). While it
holds, new-lead alerts and reminders it covers are not sent; an audit entry on the
lead records each one it muted (see ``store.alerting.silenced_by``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from store.db import Transactions
from store.errors import NotFound
from store.ingest import audit
from store.models import KEY_LENGTH, Lead, Seller
from store.models_alerts import AlertSilence, LeadSeller

SILENCE_KINDS = ("seller", "rule")


@dataclass(frozen=True, slots=True)
class SilenceView:
    id: int
    kind: str
    value: str
    reason: str
    created_by: str
    created_at: datetime
    starts_at: datetime
    ends_at: datetime
    expired_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.expired_at is None and self.starts_at <= now < self.ends_at


def _view(row: AlertSilence) -> SilenceView:
    return SilenceView(id=row.id, kind=row.kind, value=row.value, reason=row.reason,
                       created_by=row.created_by, created_at=row.created_at,
                       starts_at=row.starts_at, ends_at=row.ends_at, expired_at=row.expired_at)


class Silences(Transactions):
    def add(self, *, kind: str, value: str, reason: str, actor: str,
            duration: timedelta, starts_at: datetime | None = None) -> int:
        """Mute ``value`` (a seller id, or a rule id) for ``duration``; returns the id."""
        if kind not in SILENCE_KINDS:
            raise ValueError(f"a silence is on a seller or a rule, not {kind!r}")
        value, reason = value.strip(), reason.strip()
        if not value:
            raise ValueError("a silence needs a seller or rule")
        if not reason:
            raise ValueError("a silence needs a reason")
        if duration <= timedelta(0):
            raise ValueError("a silence needs a positive duration")
        now = self.clock()
        start = starts_at or now
        with self._write() as session:
            if kind == "seller" and (not value.isdigit() or
                                     session.get(Seller, int(value)) is None):
                raise NotFound(f"unknown seller {value}")
            row = AlertSilence(kind=kind, value=value[:KEY_LENGTH], reason=reason,
                               created_by=actor[:KEY_LENGTH], created_at=now, starts_at=start,
                               ends_at=start + duration, expired_at=None)
            session.add(row)
            session.flush()
            audit(session, at=now, actor=actor, action="silence.created",
                  object_type="silence", object_id=row.id,
                  detail={"kind": kind, "value": value, "reason": reason,
                          "ends_at": row.ends_at.isoformat()})
            return row.id

    def expire(self, silence_id: int, *, actor: str) -> None:
        """End a silence now (a no-op for one already over)."""
        now = self.clock()
        with self._write() as session:
            row = session.get(AlertSilence, silence_id, with_for_update=True)
            if row is None:
                raise NotFound(f"unknown silence {silence_id}")
            if row.expired_at is None and row.ends_at > now:
                row.expired_at = now
                audit(session, at=now, actor=actor, action="silence.expired",
                      object_type="silence", object_id=row.id, detail={})

    def rows(self, *, include_ended: bool = False) -> list[SilenceView]:
        now = self.clock()
        with self._read() as session:
            query = select(AlertSilence).order_by(AlertSilence.id.desc())
            if not include_ended:
                query = query.where(AlertSilence.expired_at.is_(None),
                                    AlertSilence.ends_at > now)
            return [_view(row) for row in session.scalars(query)]

    def sellers_of_lead(self, lead_id: int) -> list[int]:
        """The lead's own seller and those joined into it."""
        with self._read() as session:
            lead = session.get(Lead, lead_id)
            if lead is None:
                raise NotFound(f"unknown lead {lead_id}")
            joined = session.scalars(select(LeadSeller.seller_id).where(
                LeadSeller.lead_id == lead_id).order_by(LeadSeller.seller_id)).all()
            return [lead.seller_id, *joined]
