"""outbox journal: which conversations wait for a mail or SMS (no address, no text)

Revision ID: 0005_outbox_journal
Revises: 0004_request_kind
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_outbox_journal"
down_revision: str | Sequence[str] | None = "0004_request_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_index("ix_outbox_journal_settle_by", table_name="outbox_journal")
    op.drop_table("outbox_journal")
