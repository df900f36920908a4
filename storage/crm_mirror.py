"""The local copy of customers the company's CRM told us about (live look-ups and sync).

Every other table refers to a local ``customers.id``; a customer matched live is upserted here
by ``(scheme, tax_id)`` with its CRM id in ``external_id``, so tokens, tickets and consents
work the same whichever side answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs.ports import Clock, ContractInfo
from storage.contracts import SqlContracts
from storage.db import dialect_insert
from storage.models import CustomerRow
from storage.taxids import normalise_tax_id


@dataclass(frozen=True, slots=True)
class RemoteCustomer:
    external_id: str
    scheme: str
    tax_id: str
    name: str
    flags: dict[str, bool] = field(default_factory=dict)


async def upsert_remote(connection: AsyncConnection, customer: RemoteCustomer, now: float) -> int:
    """The local id of ``customer``, inserted or updated (name, flags, external id, active)."""
    try:
        tax_id = normalise_tax_id(customer.scheme, customer.tax_id)
    except ValueError:
        tax_id = customer.tax_id.strip()
    # the CRM may have re-keyed a customer: its id belongs to this tax id from now on
    await connection.execute(
        update(CustomerRow)
        .where(
            CustomerRow.external_id == customer.external_id,
            (CustomerRow.tax_scheme != customer.scheme) | (CustomerRow.tax_id != tax_id),
        )
        .values(external_id=None)
    )
    statement = dialect_insert(connection, CustomerRow).values(
        tax_scheme=customer.scheme,
        tax_id=tax_id,
        name=customer.name,
        flags=customer.flags,
        created_at=now,
        external_id=customer.external_id,
        active=True,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["tax_scheme", "tax_id"],
        set_={
            "name": statement.excluded.name,
            "flags": statement.excluded.flags,
            "external_id": statement.excluded.external_id,
            "active": True,
        },
    )
    return int((await connection.execute(statement.returning(CustomerRow.id))).scalar_one())


class CrmMirror:
    """Local ids for CRM customers, and the local copy's contracts for the others."""

    def __init__(self, engine: AsyncEngine, contracts: SqlContracts, clock: Clock) -> None:
        self._engine = engine
        self._contracts = contracts
        self._clock = clock

    async def ensure(self, customer: RemoteCustomer) -> int:
        async with self._engine.begin() as connection:
            return await upsert_remote(connection, customer, self._clock())

    async def external_id(self, customer_id: int) -> str | None:
        query = select(CustomerRow.external_id).where(CustomerRow.id == customer_id)
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def local_contracts(self, customer_id: int) -> list[ContractInfo]:
        return await self._contracts.contracts_of(customer_id)

    async def local_consent(self, customer_id: int, kind: str) -> bool:
        return await self._contracts.has_consent(customer_id, kind)
