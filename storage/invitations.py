"""Invitation links in SQL: issued for a customer and a flow, redeemed once by ``/start <token>``.

Only the SHA-256 of a token is stored. Redeeming is one atomic UPDATE, so of two people who
open the same link at once exactly one gets in.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.ports import Invitation
from storage.crm_contracts import clean_code
from storage.models import ContractRow, CustomerRow, InvitationRow
from storage.taxids import normalise_tax_id

_COLUMNS = (
    InvitationRow.flow,
    InvitationRow.customer_id,
    InvitationRow.locale,
    InvitationRow.expires_at,
    InvitationRow.used_at,
    InvitationRow.used_by,
)


class SqlInvitations:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def store_invitation(
        self,
        *,
        token_hash: str,
        flow: str,
        customer_id: int | None,
        locale: str,
        now: float,
        expires_at: float,
        edition: str | None = None,
    ) -> None:
        row = {
            "token_hash": token_hash,
            "flow": flow,
            "customer_id": customer_id,
            "locale": locale,
            "created_at": now,
            "expires_at": expires_at,
            "edition": edition,
        }
        async with self._engine.begin() as connection:
            await connection.execute(insert(InvitationRow).values(**row))

    async def get_invitation(self, token_hash: str) -> Invitation | None:
        query = select(*_COLUMNS).where(InvitationRow.token_hash == token_hash)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else Invitation(*row)

    async def redeem_invitation(self, token_hash: str, *, by: str, now: float) -> Invitation | None:
        """Mark the invitation used by conversation ``by``, if it is unused and unexpired."""
        statement = (
            update(InvitationRow)
            .where(
                InvitationRow.token_hash == token_hash,
                InvitationRow.used_at.is_(None),
                InvitationRow.expires_at > now,
            )
            .values(used_at=now, used_by=by)
            .returning(*_COLUMNS)
        )
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else Invitation(*row)

    async def customer_by_tax_id(self, scheme: str, tax_id: str) -> int | None:
        """The id of the CRM customer with this tax number (for ``onboard invite``)."""
        try:
            number = normalise_tax_id(scheme, tax_id)
        except ValueError:
            return None
        query = select(CustomerRow.id).where(
            CustomerRow.tax_scheme == scheme, CustomerRow.tax_id == number
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar()

    async def contracts_by_number(self, number: str) -> list[tuple[int, str | None]]:
        """(customer id, edition) of every CRM contract with this number."""
        query = select(ContractRow.customer_id, ContractRow.edition).where(
            ContractRow.number == clean_code(number)
        )
        async with self._engine.connect() as connection:
            return [(row[0], row[1]) for row in await connection.execute(query)]
