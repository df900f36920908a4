"""The contracts, devices and consents part of a CRM import row (format: docs/crm-format.md).

Contract numbers and device serials are kept as the CRM writes them (upper-cased, inner
spaces removed; licence keys keep their dashes), because customers type them from their
paperwork and the flows compare them exactly.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import ConsentRow, ContractRow, DeviceRow

ConsentKind = Literal["e_communication"]


def clean_code(value: str) -> str:
    """A contract number or serial as compared: upper case, no spaces (dashes kept)."""
    return "".join(value.split()).upper()


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    serial: str = Field(min_length=1, max_length=80)
    name: str = Field(min_length=1, max_length=200)

    @field_validator("serial")
    @classmethod
    def _serial(cls, value: str) -> str:
        return clean_code(value)


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    number: str = Field(min_length=1, max_length=40)
    active: bool = True
    product: str = Field(min_length=1, max_length=120)
    edition: str | None = Field(None, max_length=60)
    holder: str | None = Field(None, max_length=300)
    online_bought: bool = False
    email: str | None = None  # the contract's own contact data (seed 002: the credentials)
    phone: str | None = None
    devices: tuple[DeviceIn, ...] = ()

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        return clean_code(value)


async def replace_contracts(
    connection: AsyncConnection,
    customer_id: int,
    contracts: tuple[ContractIn, ...],
    consents: tuple[ConsentKind, ...],
) -> None:
    """The file is the truth for its customers: their contracts and consents are replaced."""
    await connection.execute(delete(ContractRow).where(ContractRow.customer_id == customer_id))
    await connection.execute(delete(ConsentRow).where(ConsentRow.customer_id == customer_id))
    for contract in contracts:
        values = contract.model_dump(exclude={"devices"})
        statement = insert(ContractRow).values(customer_id=customer_id, **values)
        contract_id = (await connection.execute(statement.returning(ContractRow.id))).scalar_one()
        if contract.devices:
            rows = [{"contract_id": contract_id, **d.model_dump()} for d in contract.devices]
            await connection.execute(insert(DeviceRow), rows)
    if consents:
        now = time.time()
        rows = [{"customer_id": customer_id, "kind": kind, "given_at": now} for kind in consents]
        await connection.execute(insert(ConsentRow), rows)
