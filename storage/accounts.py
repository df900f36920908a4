"""Accounts: the password and service-PIN hashes the hand-off pages set.

Every write that completes a hand-off burns the one-time token in the *same* transaction
(``UPDATE handoff_tokens … WHERE used_at IS NULL AND expires_at > now``), so a token sets a
password at most once, and a password is never stored for a token that was already spent.
Hashing (argon2id) happens in ``bot/``; this module only keeps the strings.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import AccountRow, CustomerRow
from storage.records import TokenInfo, _token_info, burn_token

MAX_PIN_FAILURES = 10


class _NothingPending(Exception):
    """No chosen PIN waits for confirmation (internal: undoes the token burn)."""


class PinCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # MAX_PIN_FAILURES consecutive failures: a person must reset it
    NO_PIN = "no-pin"


@dataclass(frozen=True, slots=True)
class RedeemedCustomer:
    """What the company portal learns when it redeems a token."""

    token: TokenInfo
    name: str | None
    tax_scheme: str | None
    tax_id: str | None


def _owner(customer_id: int | None, conversation_key: str) -> ColumnElement[bool]:
    """The account of one person: the conversation that registered, for its CRM customer
    (or for none). Never just the customer's: a customer's staff each have their own."""
    customer = (
        AccountRow.customer_id.is_(None)
        if customer_id is None
        else AccountRow.customer_id == customer_id
    )
    return customer & (AccountRow.conversation_key == conversation_key)


class SqlAccounts:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _burn(
        self, connection: AsyncConnection, token_hash: str, purpose: str, now: float
    ) -> TokenInfo | None:
        row = (await connection.execute(burn_token(token_hash, purpose, now))).first()
        return None if row is None else _token_info(row)

    async def _upsert(
        self, connection: AsyncConnection, token: TokenInfo, now: float, **values: object
    ) -> None:
        owner = _owner(token.customer_id, str(token.key))
        found = await connection.scalar(select(AccountRow.id).where(owner).with_for_update())
        if found is None:
            await connection.execute(
                insert(AccountRow).values(
                    customer_id=token.customer_id,
                    conversation_key=str(token.key),
                    pin_failures=0,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
        else:
            await connection.execute(
                update(AccountRow).where(AccountRow.id == found).values(updated_at=now, **values)
            )

    async def set_password(
        self, token_hash: str, purpose: str, password_hash: str, now: float
    ) -> TokenInfo | None:
        """Burn the token and store the hash, atomically; None if the token is not usable."""
        async with self._engine.begin() as connection:
            token = await self._burn(connection, token_hash, purpose, now)
            if token is None:
                return None
            await self._upsert(
                connection, token, now, password_hash=password_hash, password_set_at=now
            )
        return token

    async def set_pending_pin(self, token: TokenInfo, pin_hash: str, now: float) -> None:
        """Keep a chosen PIN until the customer confirms they stored it (the token stays)."""
        async with self._engine.begin() as connection:
            await self._upsert(connection, token, now, pending_pin_hash=pin_hash)

    async def confirm_pin(self, token_hash: str, purpose: str, now: float) -> TokenInfo | None:
        """Burn the token and make the pending PIN the PIN; None if either is missing."""
        try:
            return await self._promote_pin(token_hash, purpose, now)
        except _NothingPending:
            return None

    async def _promote_pin(self, token_hash: str, purpose: str, now: float) -> TokenInfo | None:
        async with self._engine.begin() as connection:
            token = await self._burn(connection, token_hash, purpose, now)
            if token is None:
                return None
            owner = _owner(token.customer_id, str(token.key))
            promoted = await connection.execute(
                update(AccountRow)
                .where(owner, AccountRow.pending_pin_hash.is_not(None))
                .values(
                    pin_hash=AccountRow.pending_pin_hash,
                    pending_pin_hash=None,
                    pin_failures=0,
                    pin_set_at=now,
                    updated_at=now,
                )
            )
            if not promoted.rowcount:
                raise _NothingPending  # rolls the burn back: the token stays usable
        return token

    async def check_pin(
        self, customer_id: int, conversation_key: str, matches: Callable[[str], bool], now: float
    ) -> PinCheck:
        """Check one person's PIN with ``matches(stored_hash)``; at most MAX_PIN_FAILURES in a
        row (a customer has one account per person, each with its own PIN and count).

        The failure is counted *before* the hash is checked (one atomic UPDATE that refuses at
        the limit), so concurrent guesses cannot exceed it; a right PIN resets the count.
        """
        async with self._engine.begin() as connection:
            has_pin = await connection.scalar(
                select(AccountRow.id).where(
                    _owner(customer_id, conversation_key), AccountRow.pin_hash.is_not(None)
                )
            )
            if has_pin is None:
                return PinCheck.NO_PIN
            reserved = await connection.execute(
                update(AccountRow)
                .where(AccountRow.id == has_pin, AccountRow.pin_failures < MAX_PIN_FAILURES)
                .values(pin_failures=AccountRow.pin_failures + 1, updated_at=now)
                .returning(AccountRow.pin_hash)
            )
            stored = reserved.scalar()
        if stored is None:
            return PinCheck.LOCKED
        if not matches(stored):
            return PinCheck.WRONG
        async with self._engine.begin() as connection:
            await connection.execute(
                update(AccountRow).where(AccountRow.id == has_pin).values(pin_failures=0)
            )
        return PinCheck.OK

    async def get(self, customer_id: int | None, conversation_key: str) -> AccountRow | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(AccountRow.__table__).where(_owner(customer_id, conversation_key))
                )
            ).first()
        return None if row is None else AccountRow(**row._asdict())

    async def redeem(self, token_hash: str, purpose: str, now: float) -> RedeemedCustomer | None:
        """Burn a portal token and return whom it was issued to (the portal's redeem call)."""
        async with self._engine.begin() as connection:
            token = await self._burn(connection, token_hash, purpose, now)
            if token is None:
                return None
            customer = None
            if token.customer_id is not None:
                query = select(CustomerRow.name, CustomerRow.tax_scheme, CustomerRow.tax_id)
                customer = (
                    await connection.execute(query.where(CustomerRow.id == token.customer_id))
                ).first()
        if customer is None:
            return RedeemedCustomer(token, None, None, None)
        return RedeemedCustomer(token, customer.name, customer.tax_scheme, customer.tax_id)
