"""The de registration's records (seed 003): profiles with a unique user name, the edition an
invitation carries, and guests' access codes (only hashed; nothing about the guest)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.effects import SaveProfile
from dialogs.events import ConversationKey
from dialogs.ports import GuestAccess
from dialogs.steps.guest import ACCESS_CODE_ALPHABET, normalise_access_code
from storage.models import GuestCodeRow, InvitationRow, ProfileRow

ACCESS_CODE_LENGTH = 10  # 50 bits from ``secrets``, shown as XXXXX-XXXXX


@dataclass(frozen=True, slots=True)
class Profile:
    username: str
    customer_id: int | None
    edition: str | None
    two_factor_phone: str | None
    visible: bool


class SqlProfiles:
    """Profiles (:class:`~dialogs.ports.ProfileLookup` plus the writes of the effect)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def username_taken(self, username: str, key: ConversationKey) -> bool:
        query = select(ProfileRow.id).where(
            ProfileRow.username == username, ProfileRow.conversation_key != str(key)
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(query.limit(1))).first() is not None

    async def invited_edition(self, key: ConversationKey) -> str | None:
        query = (
            select(InvitationRow.edition)
            .where(InvitationRow.used_by == str(key))
            .order_by(InvitationRow.used_at.desc())
            .limit(1)
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar()

    async def save_profile(self, profile: SaveProfile) -> bool:
        """Replace this person's (conversation's) profile, never a colleague's of the same
        customer (issue 17, item 2). False: the user name was taken by someone else after the
        customer chose it (nothing is written then)."""
        owner = ProfileRow.conversation_key == str(profile.key)
        row = {
            "conversation_key": str(profile.key),
            "customer_id": profile.customer_id,
            "username": profile.username,
            "edition": profile.edition,
            "two_factor_phone": profile.two_factor_phone,
            "visible": profile.visible,
            "saved_at": profile.saved_at,
        }
        try:
            async with self._engine.begin() as connection:
                await connection.execute(delete(ProfileRow).where(owner))
                await connection.execute(insert(ProfileRow).values(**row))
        except IntegrityError:
            return False
        return True

    async def get_profile(self, username: str) -> Profile | None:
        query = select(
            ProfileRow.username,
            ProfileRow.customer_id,
            ProfileRow.edition,
            ProfileRow.two_factor_phone,
            ProfileRow.visible,
        ).where(ProfileRow.username == username)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else Profile(*row)

    async def count(self) -> int:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(ProfileRow.id))).all()
        return len(rows)


def access_code_hash(code: str) -> str:
    return hashlib.sha256(normalise_access_code(code).encode()).hexdigest()


def new_access_code() -> str:
    raw = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
    half = ACCESS_CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


class SqlGuestCodes:
    """Guests' access codes (:class:`~dialogs.ports.GuestSessions`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def issue_access_code(
        self, *, session: str, join_url: str, now: float, ttl_seconds: float
    ) -> str:
        """Store a new personal access code for one session; return it (shown only now)."""
        code = new_access_code()
        row = {
            "code_hash": access_code_hash(code),
            "session": session,
            "join_url": join_url,
            "created_at": now,
            "expires_at": now + ttl_seconds,
        }
        async with self._engine.begin() as connection:
            await connection.execute(insert(GuestCodeRow).values(**row))
        return code

    async def find_access_code(self, code: str) -> GuestAccess | None:
        query = select(GuestCodeRow.session, GuestCodeRow.join_url, GuestCodeRow.expires_at)
        query = query.where(GuestCodeRow.code_hash == access_code_hash(code))
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else GuestAccess(*row)
