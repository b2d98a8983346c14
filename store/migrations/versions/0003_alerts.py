"""Alerts: sellers joined into leads, near-duplicate listings, lead profiles, silences,
grouped deliveries and takedown follow-up.

Revision ID: 0003_alerts
Revises: 0002_workbench
Create Date: 2025-01-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_alerts"
down_revision: str | None = "0002_workbench"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE"
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "lead_seller",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("joined_by", sa.String(32), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        _at("added_at"),
        _fk("lead_seller", "lead_id", "lead"),
        _fk("lead_seller", "seller_id", "seller"),
        sa.PrimaryKeyConstraint("lead_id", "seller_id", name="pk_lead_seller"),
    )
    op.create_index("ix_lead_seller_seller_id", "lead_seller", ["seller_id"])
    op.create_table(
        "lead_listing_group",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        _fk("lead_listing_group", "lead_id", "lead"),
        _fk("lead_listing_group", "listing_id", "listing"),
        _fk("lead_listing_group", "representative_id", "listing"),
        sa.PrimaryKeyConstraint("lead_id", "listing_id", name="pk_lead_listing_group"),
    )
    op.create_index("ix_lead_listing_group_representative_id", "lead_listing_group",
                    ["representative_id"])
    op.create_table(
        "lead_profile",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("signals", JSON, nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("platforms", JSON, nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("listing_count", sa.Integer(), nullable=False),
        sa.Column("group_count", sa.Integer(), nullable=False),
        sa.Column("score_detail", JSON, nullable=False),
        _at("updated_at"),
        _fk("lead_profile", "lead_id", "lead"),
        sa.PrimaryKeyConstraint("lead_id", name="pk_lead_profile"),
    )
    op.create_table(
        "alert_silence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        _at("created_at"),
        _at("starts_at"),
        _at("ends_at"),
        _at("expired_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_silence"),
    )
    op.create_index("ix_alert_silence_target", "alert_silence", ["kind", "value"])
    op.create_table(
        "alert_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("group_key", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_batch"),
        sa.UniqueConstraint("idempotency_key", name="uq_alert_batch_idempotency_key"),
    )
    op.create_table(
        "outbox_route",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("group_key", sa.String(255), nullable=False),
        sa.Column("group_interval", sa.Float(), nullable=False),
        sa.Column("repeat_interval", sa.Float(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        _fk("outbox_route", "outbox_id", "outbox"),
        _fk("outbox_route", "batch_id", "alert_batch", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_outbox_route"),
    )
    op.create_index("ix_outbox_route_unit", "outbox_route", ["unit"])
    op.create_index("ix_outbox_route_group_key", "outbox_route", ["group_key"])
    op.create_index("ix_outbox_route_batch_id", "outbox_route", ["batch_id"])
    op.create_table(
        "takedown",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        _at("referred_at"),
        _at("next_check_at"),
        _at("last_checked_at", nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("last_result", sa.String(32), nullable=True),
        _at("removed_at", nullable=True),
        _at("escalated_at", nullable=True),
        _fk("takedown", "lead_id", "lead"),
        _fk("takedown", "listing_id", "listing"),
        sa.PrimaryKeyConstraint("lead_id", "listing_id", name="pk_takedown"),
    )
    op.create_index("ix_takedown_due", "takedown", ["removed_at", "next_check_at"])


def downgrade() -> None:
    op.drop_table("takedown")
    op.drop_table("outbox_route")
    op.drop_table("alert_batch")
    op.drop_table("alert_silence")
    op.drop_table("lead_profile")
    op.drop_table("lead_listing_group")
    op.drop_table("lead_seller")
