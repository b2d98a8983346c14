"""SQLAlchemy 2 ORM models of the store; tables are created only by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.columns import JSONType, UTCDateTime
from store.enums import (
    EvidenceKind,
    FailureKind,
    LeadStatus,
    OutboxStatus,
    RunStatus,
)

# Named constraints let later migrations alter them, which SQLite batch mode needs.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQL text of "the lead is open"; shared with the migration's partial unique index.
OPEN_LEAD_SQL = "status NOT IN ('dismissed', 'closed')"

KEY_LENGTH = 255


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        list[str]: JSONType,
    }


def _status(enum: type[StrEnum]) -> Enum:
    # Stored as plain strings without a CHECK constraint, so a later issue can add a
    # status without a table rebuild; Python still refuses unknown values.
    return Enum(enum, native_enum=False, create_constraint=False, length=32,
                values_callable=lambda members: [m.value for m in members])


class Source(Base):
    """A configured crawl source, mirrored from the config file by ``Store.sync_source``."""

    __tablename__ = "source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    platform: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CrawlRun(Base):
    __tablename__ = "crawl_run"
    __table_args__ = (Index("ix_crawl_run_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[RunStatus] = mapped_column(_status(RunStatus))
    # pages, listings, new_versions, findings, errors, parse_failures
    stats: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)


class CrawlFailure(Base):
    __tablename__ = "crawl_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id", ondelete="CASCADE"),
                                        index=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[FailureKind] = mapped_column(_status(FailureKind))
    problem: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Seller(Base):
    """A shop on a platform; keyed by its shop id, or by its name where a platform shows none."""

    __tablename__ = "seller"
    __table_args__ = (UniqueConstraint("platform", "shop_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    shop_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    shop_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    credit_code: Mapped[str | None] = mapped_column(Text)
    license_text: Mapped[str | None] = mapped_column(Text)
    shop_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Listing(Base):
    """One listing, unique on (platform, the platform's listing id); content lives in versions."""

    __tablename__ = "listing"
    __table_args__ = (UniqueConstraint("platform", "platform_listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    platform_listing_id: Mapped[str] = mapped_column(String(KEY_LENGTH))
    url: Mapped[str | None] = mapped_column(Text)
    seller_id: Mapped[int] = mapped_column(ForeignKey("seller.id"), index=True)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Circular with listing_version.listing_id, so the constraint is added after both tables.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("listing_version.id", use_alter=True, ondelete="SET NULL"))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class ListingVersion(Base):
    """The content of a listing as captured; a new row for every content change."""

    __tablename__ = "listing_version"
    __table_args__ = (Index("ix_listing_version_listing_captured", "listing_id", "captured_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    price: Mapped[str | None] = mapped_column(Text)
    seller_snapshot: Mapped[dict[str, Any]]
    images: Mapped[list[str]]
    image_texts: Mapped[list[str]]
    captured_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_run.id", ondelete="SET NULL"), index=True)


class Evidence(Base):
    """A file captured for a version; the bytes live in the EvidenceStore under ``sha256``."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("listing_version.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(_status(EvidenceKind))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(KEY_LENGTH))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[datetime]
    tool: Mapped[str] = mapped_column(Text)
    # Relative to the evidence root (``ab/cd/<sha256>``), so the root can move.
    path: Mapped[str] = mapped_column(String(KEY_LENGTH))


class FindingRow(Base):
    """One detector finding on one listing version (see ``jingwang.records.Finding``)."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("listing_version.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(KEY_LENGTH))
    category: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(KEY_LENGTH))
    start: Mapped[int]
    end: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[list[str]]
    evasions: Mapped[list[str]]
    lexicon_version: Mapped[str] = mapped_column(String(KEY_LENGTH))
    detail: Mapped[dict[str, Any]]


class Lead(Base):
    """A seller-level lead: one open lead per seller gathers its flagged listings."""

    __tablename__ = "lead"
    __table_args__ = (
        Index("ix_lead_created", "created_at", "id"),
        # the review queue at scale (migration 0004, docs/benchmarks.md)
        Index("ix_lead_status_created", "status", "created_at", "id"),
        Index("ix_lead_score", "score", "created_at", "id"),
        Index("ix_lead_categories", "categories", postgresql_using="gin",
              postgresql_ops={"categories": "jsonb_path_ops"}),
        Index("uq_lead_open_seller", "seller_id", unique=True,
              postgresql_where=text(OPEN_LEAD_SQL), sqlite_where=text(OPEN_LEAD_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("seller.id"))
    status: Mapped[LeadStatus] = mapped_column(_status(LeadStatus))
    new_at: Mapped[datetime | None]
    in_review_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    dismissed_at: Mapped[datetime | None]
    referred_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    categories: Mapped[list[str]]
    score: Mapped[float] = mapped_column(Float)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LeadListing(Base):
    __tablename__ = "lead_listing"

    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"),
                                         primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)
    added_at: Mapped[datetime]


class AuditEvent(Base):
    """Who did what to which object, and when; append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(KEY_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(KEY_LENGTH))
    detail: Mapped[dict[str, Any]]


class Outbox(Base):
    """A message waiting to go out on an alert channel; written in the same transaction as
    the change it announces, so no alert is lost or sent for a rolled-back change."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"),
                                                index=True)
    channel: Mapped[str] = mapped_column(String(KEY_LENGTH))
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(_status(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
from store import models_alerts as _models_alerts  # noqa: E402, F401  (alert tables)
from store import models_review as _models_review  # noqa: E402, F401  (workbench tables)
