"""support tickets: the Telegram user -> customer link, tickets, their messages, group map

Revision ID: 0005_tickets
Revises: 0004_request_kind
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_tickets"
down_revision: str | Sequence[str] | None = "0004_request_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_links",
        sa.Column("conversation_key", sa.String(64), primary_key=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("linked_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(32), nullable=False, unique=True),
        sa.Column("conversation_key", sa.String(64), nullable=False, index=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="SET NULL")
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contract", sa.String(40)),
        sa.Column("device", sa.String(300)),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column(
            "request_id", sa.Integer(), sa.ForeignKey("human_requests.id", ondelete="SET NULL")
        ),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("due_at", sa.Float()),
        sa.Column("group_chat_id", sa.BigInteger()),
        sa.Column("thread_id", sa.BigInteger()),
        sa.Column("card_message_id", sa.BigInteger()),
    )
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("author", sa.String(20), nullable=False),
        sa.Column("author_name", sa.String(200)),
        sa.Column("author_user_id", sa.BigInteger()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_table(
        "ticket_group_messages",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True),
        sa.Column("message_id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("ticket_group_messages")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
    op.drop_table("customer_links")
