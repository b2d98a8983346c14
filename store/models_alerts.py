"""ORM models of lead grouping, routing, silences, grouped deliveries and takedown follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models import KEY_LENGTH, Base


class LeadSeller(Base):
    """A seller on another platform joined into a lead (same credit code or a close name).

    The lead's own seller is ``lead.seller_id``; these are the others, so a seller is in
    at most one open lead either way.
    """

    __tablename__ = "lead_seller"

    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"),
                                         primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("seller.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    joined_by: Mapped[str] = mapped_column(String(32))  # credit_code | name
    similarity: Mapped[float] = mapped_column(Float)
    added_at: Mapped[datetime]


class LeadListingGroup(Base):
    """Which listing of a lead a listing repeats: near-duplicates share a representative.

    The score counts representatives only, so a seller reposting one text fifty times
    is one offence with fifty listings to take down, not fifty offences.
    """

    __tablename__ = "lead_listing_group"

    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"),
                                         primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            primary_key=True)
    representative_id: Mapped[int] = mapped_column(
        ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    similarity: Mapped[float] = mapped_column(Float)


class LeadProfile(Base):
    """What routing and scoring know about a lead beyond its row: signals, severity, region."""

    __tablename__ = "lead_profile"

    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"),
                                         primary_key=True)
    severity: Mapped[str] = mapped_column(String(32))
    signals: Mapped[list[str]]
    rules: Mapped[list[str]]
    platforms: Mapped[list[str]]
    region: Mapped[str | None] = mapped_column(String(64))
    listing_count: Mapped[int] = mapped_column(Integer)
    group_count: Mapped[int] = mapped_column(Integer)
    score_detail: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class AlertSilence(Base):
    """An analyst's mute of a seller or a rule until ``ends_at``, with the reason."""

    __tablename__ = "alert_silence"
    __table_args__ = (Index("ix_alert_silence_target", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # seller | rule
    value: Mapped[str] = mapped_column(String(KEY_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(KEY_LENGTH))
    created_at: Mapped[datetime]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    expired_at: Mapped[datetime | None]


class AlertBatch(Base):
    """Outbox rows sent together as one grouped message; fixed when first claimed, so a
    resend after a crash carries the same members under the same idempotency key."""

    __tablename__ = "alert_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(KEY_LENGTH))
    group_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    created_at: Mapped[datetime]


class OutboxRoute(Base):
    """How a routed outbox row is grouped: its unit, group key and timing."""

    __tablename__ = "outbox_route"

    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"),
                                           primary_key=True)
    unit: Mapped[str | None] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(32))
    group_key: Mapped[str] = mapped_column(String(KEY_LENGTH), index=True)
    group_interval: Mapped[float] = mapped_column(Float)
    repeat_interval: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_batch.id", ondelete="SET NULL"), index=True)


class Takedown(Base):
    """A listing of a lead referred to its platform for cleanup (督促平台清理), re-checked
    until it is gone; escalated to the unit when still online after the grace period."""

    __tablename__ = "takedown"
    __table_args__ = (Index("ix_takedown_due", "removed_at", "next_check_at"),)

    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"),
                                         primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    referred_at: Mapped[datetime]
    next_check_at: Mapped[datetime]
    last_checked_at: Mapped[datetime | None]
    checks: Mapped[int] = mapped_column(Integer)
    last_result: Mapped[str | None] = mapped_column(String(32))
    removed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
