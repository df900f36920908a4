"""WhatsApp's customer-service window (issue 18): the last inbound time per conversation

Revision ID: 0011_18_whatsapp_window
Revises: 0010_merge
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_18_whatsapp_window"
down_revision: str | Sequence[str] | None = "0010_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_windows",
        sa.Column("conversation", sa.String(length=96), nullable=False),
        sa.Column("last_inbound_at", sa.Float(), nullable=False),
        sa.Column("menu", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("conversation"),
    )
    op.create_index("ix_whatsapp_windows_last_inbound_at", "whatsapp_windows", ["last_inbound_at"])


def downgrade() -> None:
    op.drop_index("ix_whatsapp_windows_last_inbound_at", table_name="whatsapp_windows")
    op.drop_table("whatsapp_windows")
