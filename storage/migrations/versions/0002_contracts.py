"""contracts, devices and consents from the CRM

Revision ID: 0002_contracts
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_contracts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("product", sa.String(length=120), nullable=False),
        sa.Column("edition", sa.String(length=60), nullable=True),
        sa.Column("holder", sa.String(length=300), nullable=True),
        sa.Column("online_bought", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "number", name="uq_contracts_number"),
    )
    op.create_index("ix_contracts_customer_id", "contracts", ["customer_id"])
    op.create_index("ix_contracts_email", "contracts", ["email"])
    op.create_index("ix_contracts_phone", "contracts", ["phone"])
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_devices_contract_id", "devices", ["contract_id"])
    op.create_index("ix_devices_serial", "devices", ["serial"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("given_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "kind", name="uq_consents_kind"),
    )


def downgrade() -> None:
    op.drop_table("consents")
    op.drop_index("ix_devices_serial", table_name="devices")
    op.drop_index("ix_devices_contract_id", table_name="devices")
    op.drop_table("devices")
    op.drop_index("ix_contracts_phone", table_name="contracts")
    op.drop_index("ix_contracts_email", table_name="contracts")
    op.drop_index("ix_contracts_customer_id", table_name="contracts")
    op.drop_table("contracts")
