"""merge the outbox journal, profiles and tickets branches

Revision ID: 0006_merge
Revises: 0005_outbox_journal, 0005_profiles, 0005_tickets
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_merge"
down_revision: str | Sequence[str] | None = (
    "0005_outbox_journal",
    "0005_profiles",
    "0005_tickets",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: the three branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
