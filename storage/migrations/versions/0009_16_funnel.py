"""The funnel's step events (issue 16): where customers get stuck

Revision ID: 0009_16_funnel
Revises: 0008_14_owed
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_16_funnel"
down_revision: str | Sequence[str] | None = "0008_14_owed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funnel_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("customer", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_funnel_events_flow_at", "funnel_events", ["flow", "at"])
    op.create_index("ix_funnel_events_customer", "funnel_events", ["customer"])


def downgrade() -> None:
    op.drop_index("ix_funnel_events_customer", table_name="funnel_events")
    op.drop_index("ix_funnel_events_flow_at", table_name="funnel_events")
    op.drop_table("funnel_events")
