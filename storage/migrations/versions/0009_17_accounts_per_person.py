"""accounts per person: a customer has one account per person who registered, not one in all

Issue 17, item 2: a second invitation for the same contract replaced the first person's
password and service-PIN hashes. The unique customer id becomes unique (customer id,
conversation) — one account per person and customer.

Revision ID: 0009_17_accounts_per_person
Revises: 0008_14_owed
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_17_accounts_per_person"
down_revision: str | Sequence[str] | None = "0008_14_owed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0002 left the constraint unnamed: PostgreSQL called it accounts_customer_id_key, SQLite
# reflects it without a name; the convention names it for the batch (table copy) on SQLite.
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique() -> str:
    found = sa.inspect(op.get_bind()).get_unique_constraints("accounts")
    names = [u["name"] for u in found if u["column_names"] == ["customer_id"]]
    return names[0] if names and names[0] else "uq_accounts_customer_id"


def upgrade() -> None:
    old = _old_unique()
    with op.batch_alter_table("accounts", naming_convention=_NAMES) as batch:
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint("uq_accounts_person", ["customer_id", "conversation_key"])
        batch.create_index("ix_accounts_customer_id", ["customer_id"])


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_index("ix_accounts_customer_id")
        batch.drop_constraint("uq_accounts_person", type_="unique")
        batch.create_unique_constraint("uq_accounts_customer_id", ["customer_id"])
