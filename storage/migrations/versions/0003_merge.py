"""merge the accounts, contracts and delivery branches

Revision ID: 0003_merge
Revises: 0002_accounts, 0002_contracts, 0002_delivery
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003_merge"
down_revision: str | Sequence[str] | None = ("0002_accounts", "0002_contracts", "0002_delivery")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: the three branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
