"""de registration (seed 003): profiles, guests' access codes, the edition of an invitation

Revision ID: 0005_profiles
Revises: 0004_request_kind
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_profiles"
down_revision: str | Sequence[str] | None = "0004_request_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("edition", sa.String(length=60), nullable=True))
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("edition", sa.String(length=60), nullable=True),
        sa.Column("two_factor_phone", sa.String(length=20), nullable=True),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("saved_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_key"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_profiles_customer_id", "profiles", ["customer_id"])
    op.create_table(
        "guest_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("session", sa.String(length=200), nullable=False),
        sa.Column("join_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    op.create_index("ix_guest_codes_expires_at", "guest_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_table("guest_codes")
    op.drop_table("profiles")
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("edition")
