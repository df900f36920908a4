"""The SQL record store: CRM look-ups, requests for a person, one-time hand-off tokens.

Implements :class:`dialogs.ports.RecordLookup`, :class:`dialogs.ports.RequestRecorder` and
:class:`dialogs.ports.TokenStore` over one AsyncEngine (SQLite or PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, Select, bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.util.typing import TupleAny

from dialogs import validators
from dialogs.events import ConversationKey
from dialogs.ports import CustomerMatch, HumanRequest
from storage.hot_sql import EnginePath, HotPath
from storage.models import (
    CustomerEmailRow,
    CustomerPhoneRow,
    CustomerRow,
    HandoffTokenRow,
    HumanRequestRow,
)
from storage.taxids import normalise_tax_id


def normalise_email(value: str) -> str:
    """The form e-mails are stored and compared in: validated, normalised, lower-case."""
    try:
        return validators.email(value)
    except validators.Invalid:
        return value.strip().lower()


def normalise_phone(value: str) -> str:
    """E.164 when ``value`` parses as an international number, else ``value`` unchanged."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value.strip()
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A stored hand-off token, as the web page needs it."""

    token_hash: str
    purpose: str
    key: ConversationKey
    customer_id: int | None
    locale: str
    expires_at: float
    used_at: float | None

    def usable(self, now: float) -> bool:
        """Not used yet and not expired at ``now``."""
        return self.used_at is None and self.expires_at > now


_TOKEN_COLUMNS = (
    HandoffTokenRow.token_hash,
    HandoffTokenRow.purpose,
    HandoffTokenRow.conversation_key,
    HandoffTokenRow.customer_id,
    HandoffTokenRow.locale,
    HandoffTokenRow.expires_at,
    HandoffTokenRow.used_at,
)


def burn_token(token_hash: str, purpose: str, now: float) -> ReturningUpdate[*TupleAny]:
    """The one atomic UPDATE that uses a token: unused, unexpired and for ``purpose`` only.
    Shared with the stores that burn a token in the same transaction as their own write."""
    return (
        update(HandoffTokenRow)
        .where(
            HandoffTokenRow.token_hash == token_hash,
            HandoffTokenRow.purpose == purpose,
            HandoffTokenRow.used_at.is_(None),
            HandoffTokenRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(*_TOKEN_COLUMNS)
    )


def _token_info(row: Sequence[Any]) -> TokenInfo:
    token_hash, purpose, key, customer_id, locale, expires_at, used_at = row
    return TokenInfo(
        token_hash, purpose, ConversationKey.parse(key), customer_id, locale, expires_at, used_at
    )


def _match_statement(by_email: bool, by_phone: bool) -> Select[int, str, dict[str, bool]]:
    """The CRM match with bind parameters ``scheme``, ``tax_id`` and ``email`` / ``phone``."""
    contact: list[ColumnElement[bool]] = []
    if by_email:
        contact.append(
            exists().where(
                CustomerEmailRow.customer_id == CustomerRow.id,
                CustomerEmailRow.email == bindparam("email"),
            )
        )
    if by_phone:
        contact.append(
            exists().where(
                CustomerPhoneRow.customer_id == CustomerRow.id,
                CustomerPhoneRow.phone == bindparam("phone"),
            )
        )
    return select(CustomerRow.id, CustomerRow.name, CustomerRow.flags).where(
        CustomerRow.tax_scheme == bindparam("scheme"),
        CustomerRow.tax_id == bindparam("tax_id"),
        CustomerRow.active.is_(True),  # removed at the source (crm sync): no longer matches
        *contact,
    )


# Built once: these run once per conversation each (see storage/hot_sql.py).
_MATCH = {
    (by_email, by_phone): _match_statement(by_email, by_phone)
    for by_email in (False, True)
    for by_phone in (False, True)
    if by_email or by_phone
}
_STORE_TOKEN = insert(HandoffTokenRow).values(
    token_hash=bindparam("token_hash"),
    purpose=bindparam("purpose"),
    conversation_key=bindparam("conversation_key"),
    customer_id=bindparam("customer_id"),
    locale=bindparam("locale"),
    expires_at=bindparam("expires_at"),
)


class SqlRecords:
    """CRM records, requests for a person and hand-off tokens in SQL."""

    def __init__(self, engine: AsyncEngine, hot: HotPath | None = None) -> None:
        # The CRM match and the token insert sit on the update's path: prepared statements
        # on ``hot`` (storage/hot_sql.py; the app passes the asyncpg path on PostgreSQL).
        self._engine = engine
        self._hot = hot or EnginePath(engine)
        self._sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )

    async def match_customer(
        self, *, tax_scheme: str, tax_id: str, email: str | None = None, phone: str | None = None
    ) -> CustomerMatch | None:
        """The customer with this tax id and this e-mail / phone on record, else None.

        One query; every kind of mismatch (unknown tax id, wrong contact, malformed input,
        no contact given at all) is the same None, so an answer reveals nothing more.
        """
        if email is None and phone is None:
            return None
        try:
            tax_id = normalise_tax_id(tax_scheme, tax_id)
        except ValueError:
            return None
        values = {"scheme": tax_scheme, "tax_id": tax_id}
        if email is not None:
            values["email"] = normalise_email(email)
        if phone is not None:
            values["phone"] = normalise_phone(phone)
        row = await self._hot.first(_MATCH[email is not None, phone is not None], values)
        if row is None:
            return None
        customer_id, name, stored_flags = row
        flags = {str(flag): bool(value) for flag, value in (stored_flags or {}).items()}
        return CustomerMatch(customer_id=customer_id, name=name, flags=flags)

    async def close(self) -> None:
        """Close the hot path's own connections (the engine is disposed by its owner)."""
        await self._hot.close()

    async def record_human_request(self, request: HumanRequest) -> int:
        row = HumanRequestRow(
            conversation_key=str(request.key),
            flow=request.flow,
            step=request.step,
            locale=request.locale,
            reason=request.reason,
            created_at=request.created_at,
            kind=request.kind,
            details=dict(request.details) or None,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            return row.id

    async def store_token(
        self,
        *,
        token_hash: str,
        purpose: str,
        key: ConversationKey,
        customer_id: int | None,
        locale: str,
        expires_at: float,
    ) -> None:
        values = {
            "token_hash": token_hash,
            "purpose": purpose,
            "conversation_key": str(key),
            "customer_id": customer_id,
            "locale": locale,
            "expires_at": expires_at,
        }
        await self._hot.execute(_STORE_TOKEN, values)

    async def get_token(self, token_hash: str) -> TokenInfo | None:
        """The token whatever its state (check :meth:`TokenInfo.usable`), or None."""
        query = select(*_TOKEN_COLUMNS).where(HandoffTokenRow.token_hash == token_hash)
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else _token_info(row)

    async def consume_token(self, token_hash: str, purpose: str, now: float) -> TokenInfo | None:
        """Mark the token used and return it, if it is unused, unexpired and for ``purpose``.

        One atomic UPDATE: of two concurrent calls exactly one gets the token.
        """
        statement = burn_token(token_hash, purpose, now).execution_options(
            synchronize_session=False
        )
        async with self._sessions.begin() as session:
            row = (await session.execute(statement)).first()
        return None if row is None else _token_info(row)
