"""Review workbench: user accounts, sessions, API tokens, lead review state, referrals, notes.

Revision ID: 0002_workbench
Revises: 0001_initial
Create Date: 2025-01-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002_workbench"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _at("disabled_at", nullable=True),
        _at("last_login_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_app_user"),
        sa.UniqueConstraint("username", name="uq_app_user_username"),
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _at("created_at"),
        _at("last_seen_at"),
        _at("expires_at"),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE",
                                name="fk_user_session_user_id_app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_user_session"),
        sa.UniqueConstraint("token_hash", name="uq_user_session_token_hash"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        _at("created_at"),
        _at("last_used_at", nullable=True),
        _at("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE",
                                name="fk_api_token_user_id_app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_api_token"),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])
    op.create_table(
        "lead_review",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        _at("claimed_at", nullable=True),
        sa.Column("unit", sa.String(64), nullable=True),
        _at("escalated_at", nullable=True),
        sa.Column("escalated_by", sa.String(255), nullable=True),
        sa.Column("escalation_note", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE",
                                name="fk_lead_review_lead_id_lead"),
        sa.ForeignKeyConstraint(["assignee_id"], ["app_user.id"], ondelete="SET NULL",
                                name="fk_lead_review_assignee_id_app_user"),
        sa.PrimaryKeyConstraint("lead_id", name="pk_lead_review"),
    )
    op.create_index("ix_lead_review_assignee_id", "lead_review", ["assignee_id"])
    op.create_index("ix_lead_review_unit", "lead_review", ["unit"])
    op.create_table(
        "lead_referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(255), nullable=False),
        _at("at"),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE",
                                name="fk_lead_referral_lead_id_lead"),
        sa.PrimaryKeyConstraint("id", name="pk_lead_referral"),
    )
    op.create_index("ix_lead_referral_lead_at", "lead_referral", ["lead_id", "at"])
    op.create_table(
        "lead_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("at"),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE",
                                name="fk_lead_note_lead_id_lead"),
        sa.PrimaryKeyConstraint("id", name="pk_lead_note"),
    )
    op.create_index("ix_lead_note_lead_at", "lead_note", ["lead_id", "at"])


def downgrade() -> None:
    op.drop_table("lead_note")
    op.drop_table("lead_referral")
    op.drop_table("lead_review")
    op.drop_table("api_token")
    op.drop_table("user_session")
    op.drop_table("app_user")
