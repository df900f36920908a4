"""human requests gain a kind (help or callback) and the context an agent needs

Revision ID: 0004_request_kind
Revises: 0003_merge
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_request_kind"
down_revision: str | Sequence[str] | None = "0003_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("human_requests") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(20), nullable=False, server_default="help")
        )
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("human_requests") as batch:
        batch.drop_column("details")
        batch.drop_column("kind")
