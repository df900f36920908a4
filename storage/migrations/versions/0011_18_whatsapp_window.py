"""WhatsApp's customer-service window (issue 18): the last inbound time per conversation, and
what was sent (for a template when Meta reports 131047 after accepting a message)

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
    op.create_table(
        "whatsapp_sent",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("conversation", sa.String(length=96), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_whatsapp_sent_sent_at", "whatsapp_sent", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_whatsapp_sent_sent_at", table_name="whatsapp_sent")
    op.drop_table("whatsapp_sent")
    op.drop_index("ix_whatsapp_windows_last_inbound_at", table_name="whatsapp_windows")
    op.drop_table("whatsapp_windows")
