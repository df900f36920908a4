"""What committed turns still owe (issue 14): owed items and their delivery leases; the
outbox journal goes (an owed mail is durable until it is sent)

Revision ID: 0008_14_owed
Revises: 0007_21_crm_source
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_14_owed"
down_revision: str | Sequence[str] | None = "0007_21_crm_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owed_items",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", "item_id"),
    )
    op.create_table(
        "owed_leases",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_owed_leases_lease_until", "owed_leases", ["lease_until"])
    op.drop_index("ix_outbox_journal_settle_by", table_name="outbox_journal")
    op.drop_table("outbox_journal")


def downgrade() -> None:
    op.create_table(
        "outbox_journal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_key", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("settle_by", sa.Float(), nullable=False),
    )
    op.create_index("ix_outbox_journal_settle_by", "outbox_journal", ["settle_by"])
    op.drop_index("ix_owed_leases_lease_until", table_name="owed_leases")
    op.drop_table("owed_leases")
    op.drop_table("owed_items")
