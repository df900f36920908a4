"""Merge the funnel (issue 16) and the accounts per person (issue 17)

Revision ID: 0010_merge
Revises: 0009_16_funnel, 0009_17_accounts_per_person
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_merge"
down_revision: str | Sequence[str] | None = ("0009_16_funnel", "0009_17_accounts_per_person")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
