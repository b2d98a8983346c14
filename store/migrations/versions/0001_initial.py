"""Initial schema: sources and runs, sellers, listings and versions, evidence, findings,
leads, audit events and the alert outbox.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OPEN_LEAD = "status NOT IN ('dismissed', 'closed')"


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("config", JSON, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_source"),
        sa.UniqueConstraint("name", name="uq_source_name"),
    )
    op.create_table(
        "crawl_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        _at("started_at"),
        _at("finished_at", nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("stats", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], ondelete="CASCADE",
                                name="fk_crawl_run_source_id_source"),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_run"),
    )
    op.create_index("ix_crawl_run_source_started", "crawl_run", ["source_id", "started_at"])
    op.create_table(
        "crawl_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        _at("at"),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_run.id"], ondelete="CASCADE",
                                name="fk_crawl_failure_run_id_crawl_run"),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_failure"),
    )
    op.create_index("ix_crawl_failure_run_id", "crawl_failure", ["run_id"])
    op.create_table(
        "seller",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("shop_key", sa.String(255), nullable=False),
        sa.Column("shop_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("credit_code", sa.Text(), nullable=True),
        sa.Column("license_text", sa.Text(), nullable=True),
        sa.Column("shop_url", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_seller"),
        sa.UniqueConstraint("platform", "shop_key", name="uq_seller_platform_shop_key"),
    )
    # listing.current_version_id ↔ listing_version.listing_id is circular: the
    # listing → version constraint is added once both tables exist.
    op.create_table(
        "listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("platform_listing_id", sa.String(255), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        _at("first_seen_at"),
        _at("last_seen_at"),
        _at("removed_at", nullable=True),
        sa.ForeignKeyConstraint(["seller_id"], ["seller.id"], name="fk_listing_seller_id_seller"),
        sa.PrimaryKeyConstraint("id", name="pk_listing"),
        sa.UniqueConstraint("platform", "platform_listing_id",
                            name="uq_listing_platform_platform_listing_id"),
    )
    op.create_index("ix_listing_seller_id", "listing", ["seller_id"])
    op.create_table(
        "listing_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Text(), nullable=True),
        sa.Column("seller_snapshot", JSON, nullable=False),
        sa.Column("images", JSON, nullable=False),
        sa.Column("image_texts", JSON, nullable=False),
        _at("captured_at"),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["listing_id"], ["listing.id"], ondelete="CASCADE",
                                name="fk_listing_version_listing_id_listing"),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_run.id"], ondelete="SET NULL",
                                name="fk_listing_version_run_id_crawl_run"),
        sa.PrimaryKeyConstraint("id", name="pk_listing_version"),
    )
    op.create_index("ix_listing_version_listing_captured", "listing_version",
                    ["listing_id", "captured_at"])
    op.create_index("ix_listing_version_run_id", "listing_version", ["run_id"])
    with op.batch_alter_table("listing") as batch:
        batch.create_foreign_key("fk_listing_current_version_id_listing_version",
                                 "listing_version", ["current_version_id"], ["id"],
                                 ondelete="SET NULL")
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        _at("fetched_at"),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["listing_version.id"], ondelete="CASCADE",
                                name="fk_evidence_version_id_listing_version"),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
    )
    op.create_index("ix_evidence_version_id", "evidence", ["version_id"])
    op.create_index("ix_evidence_sha256", "evidence", ["sha256"])
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(255), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("legal_basis", JSON, nullable=False),
        sa.Column("evasions", JSON, nullable=False),
        sa.Column("lexicon_version", sa.String(255), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["listing_version.id"], ondelete="CASCADE",
                                name="fk_finding_version_id_listing_version"),
        sa.PrimaryKeyConstraint("id", name="pk_finding"),
    )
    op.create_index("ix_finding_version_id", "finding", ["version_id"])
    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _at("new_at", nullable=True),
        _at("in_review_at", nullable=True),
        _at("confirmed_at", nullable=True),
        _at("dismissed_at", nullable=True),
        _at("referred_at", nullable=True),
        _at("closed_at", nullable=True),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["seller_id"], ["seller.id"], name="fk_lead_seller_id_seller"),
        sa.PrimaryKeyConstraint("id", name="pk_lead"),
    )
    op.create_index("ix_lead_created", "lead", ["created_at", "id"])
    # One open lead per seller, even with several workers ingesting at once.
    op.create_index("uq_lead_open_seller", "lead", ["seller_id"], unique=True,
                    postgresql_where=sa.text(OPEN_LEAD), sqlite_where=sa.text(OPEN_LEAD))
    op.create_table(
        "lead_listing",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        _at("added_at"),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE",
                                name="fk_lead_listing_lead_id_lead"),
        sa.ForeignKeyConstraint(["listing_id"], ["listing.id"], ondelete="CASCADE",
                                name="fk_lead_listing_listing_id_listing"),
        sa.PrimaryKeyConstraint("lead_id", "listing_id", name="pk_lead_listing"),
    )
    op.create_index("ix_lead_listing_listing_id", "lead_listing", ["listing_id"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
    )
    op.create_index("ix_audit_event_object", "audit_event", ["object_type", "object_id", "at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("created_at"),
        _at("sent_at", nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="SET NULL",
                                name="fk_outbox_lead_id_lead"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_lead_id", "outbox", ["lead_id"])
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("audit_event")
    op.drop_table("lead_listing")
    op.drop_table("lead")
    op.drop_table("finding")
    op.drop_table("evidence")
    with op.batch_alter_table("listing") as batch:
        batch.drop_constraint("fk_listing_current_version_id_listing_version",
                              type_="foreignkey")
    op.drop_table("listing_version")
    op.drop_table("listing")
    op.drop_table("seller")
    op.drop_table("crawl_failure")
    op.drop_table("crawl_run")
    op.drop_table("source")
