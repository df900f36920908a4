"""Read-only look-ups of contracts, devices and consents (the CRM side of the hu, kk, de and
pl flows). Every mismatch is the same ``None``/``False``: an answer never says which part of
what the customer typed was wrong."""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.ports import ContractInfo, CustomerMatch, DeviceInfo, FoundContract, FoundPolicy
from storage.crm_contracts import clean_code
from storage.db import dialect_insert
from storage.models import (
    ConsentRow,
    ContractRow,
    CustomerEmailRow,
    CustomerPhoneRow,
    CustomerRow,
    DeviceRow,
)
from storage.records import normalise_email, normalise_phone
from storage.taxids import normalise_tax_id


class SqlContracts:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find_contract(
        self, *, tax_scheme: str, tax_id: str, number: str, serial: str
    ) -> FoundContract | None:
        """The active contract of this taxpayer with this number that carries this device
        (seed 004: all three must sit on ONE contract), else None."""
        try:
            tax_id = normalise_tax_id(tax_scheme, tax_id)
        except ValueError:
            return None
        query = (
            select(ContractRow.customer_id, ContractRow.number, ContractRow.edition)
            .join(CustomerRow, CustomerRow.id == ContractRow.customer_id)
            .join(DeviceRow, DeviceRow.contract_id == ContractRow.id)
            .where(
                CustomerRow.tax_scheme == tax_scheme,
                CustomerRow.tax_id == tax_id,
                CustomerRow.active.is_(True),
                ContractRow.number == clean_code(number),
                ContractRow.active.is_(True),
                DeviceRow.serial == clean_code(serial),
            )
            .limit(1)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else FoundContract(row[0], row[1], row[2])

    async def contracts_of(self, customer_id: int) -> list[ContractInfo]:
        """The customer's contracts, active first, each with its device lines."""
        c = ContractRow
        query = (
            select(
                c.id,
                c.number,
                c.product,
                c.edition,
                c.active,
                c.holder,
                c.online_bought,
                DeviceRow.serial,
                DeviceRow.name,
            )
            .outerjoin(DeviceRow, DeviceRow.contract_id == ContractRow.id)
            .where(ContractRow.customer_id == customer_id)
            .order_by(ContractRow.active.desc(), ContractRow.number, DeviceRow.id)
        )
        heads: dict[int, tuple[str, str, str | None, bool, str | None, bool]] = {}
        devices: dict[int, list[DeviceInfo]] = {}
        async with self._engine.connect() as connection:
            for cid, number, product, edition, active, holder, online, serial, name in (
                await connection.execute(query)
            ).all():
                heads.setdefault(cid, (number, product, edition, active, holder, bool(online)))
                found = devices.setdefault(cid, [])
                if serial is not None:
                    found.append(DeviceInfo(serial, name))
        return [
            ContractInfo(
                number=number,
                product=product,
                edition=edition,
                active=active,
                devices=tuple(devices[cid]),
                holder=holder,
                online_bought=online,
            )
            for cid, (number, product, edition, active, holder, online) in heads.items()
        ]

    async def bought_online(self, *, email: str, phone: str) -> bool:
        """Seed 002: an active policy bought online with exactly this e-mail and phone means
        the personal cabinet already exists."""
        query = select(
            exists().where(
                and_(
                    ContractRow.active.is_(True),
                    ContractRow.online_bought.is_(True),
                    ContractRow.email == email.strip().lower(),
                    ContractRow.phone == phone,
                    ContractRow.customer_id.in_(
                        select(CustomerRow.id).where(CustomerRow.active.is_(True))
                    ),
                )
            )
        )
        async with self._engine.connect() as connection:
            return bool((await connection.execute(query)).scalar())

    async def has_consent(self, customer_id: int, kind: str) -> bool:
        query = select(
            exists().where(ConsentRow.customer_id == customer_id, ConsentRow.kind == kind)
        )
        async with self._engine.connect() as connection:
            return bool((await connection.execute(query)).scalar())

    async def record_consent(self, customer_id: int, kind: str, at: float) -> None:
        """Idempotent: giving a declaration twice keeps the first time it was given."""
        async with self._engine.begin() as connection:
            statement = dialect_insert(connection, ConsentRow).values(
                customer_id=customer_id, kind=kind, given_at=at
            )
            await connection.execute(statement.on_conflict_do_nothing())

    async def match_policy(self, *, number: str, email: str) -> FoundPolicy | None:
        """Seed 001: the active contract with this number whose customer has this e-mail on
        record (or which carries it itself). The customer is its policyholder when the contract
        names no other holder than the customer."""
        address = normalise_email(email)
        customer_has_email = exists().where(
            CustomerEmailRow.customer_id == CustomerRow.id, CustomerEmailRow.email == address
        )
        query = (
            select(CustomerRow.id, CustomerRow.name, ContractRow.number, ContractRow.holder)
            .join(CustomerRow, CustomerRow.id == ContractRow.customer_id)
            .where(
                ContractRow.number == clean_code(number),
                ContractRow.active.is_(True),
                CustomerRow.active.is_(True),
                or_(ContractRow.email == address, customer_has_email),
            )
            .order_by(ContractRow.id)
            .limit(1)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        customer_id, name, contract_number, holder = row
        return FoundPolicy(customer_id, name, contract_number, _same_party(holder, name))

    async def match_contact(self, *, email: str, phone: str) -> CustomerMatch | None:
        """Seed 002: the customer with both this e-mail and this phone on record, on the
        customer or together on one of its contracts; None for every mismatch."""
        address, number = normalise_email(email), normalise_phone(phone)
        on_customer = and_(
            exists().where(
                CustomerEmailRow.customer_id == CustomerRow.id, CustomerEmailRow.email == address
            ),
            exists().where(
                CustomerPhoneRow.customer_id == CustomerRow.id, CustomerPhoneRow.phone == number
            ),
        )
        on_contract = exists().where(
            ContractRow.customer_id == CustomerRow.id,
            ContractRow.email == address,
            ContractRow.phone == number,
        )
        query = (
            select(CustomerRow.id, CustomerRow.name, CustomerRow.flags)
            .where(CustomerRow.active.is_(True), or_(on_customer, on_contract))
            .order_by(CustomerRow.id)
            .limit(1)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else CustomerMatch(row[0], row[1], dict(row[2] or {}))


def _same_party(holder: str | None, name: str) -> bool:
    """No holder on the contract means the customer holds it; names compare case-blind."""
    if holder is None:
        return True
    return " ".join(holder.split()).casefold() == " ".join(name.split()).casefold()
