"""Indexes of the review queue at scale (bench/review_queue.py, docs/benchmarks.md).

A status-filtered queue walks ``lead`` in its sort order by status; a category
filter uses JSONB containment, served on PostgreSQL by a GIN index (on SQLite the
index is a plain one the LIKE there does not use, kept so both schemas match the
models); the score sort walks ``ix_lead_score``.

Revision ID: 0004_queue_indexes
Revises: 0003_alerts
Create Date: 2025-01-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_queue_indexes"
down_revision: str | None = "0003_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_lead_status_created", "lead", ["status", "created_at", "id"])
    op.create_index("ix_lead_score", "lead", ["score", "created_at", "id"])
    op.create_index("ix_lead_categories", "lead", ["categories"], postgresql_using="gin",
                    postgresql_ops={"categories": "jsonb_path_ops"})


def downgrade() -> None:
    op.drop_index("ix_lead_categories", table_name="lead")
    op.drop_index("ix_lead_score", table_name="lead")
    op.drop_index("ix_lead_status_created", table_name="lead")
