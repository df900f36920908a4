"""Conversation state in SQL (the embedded store used when no Redis is configured).

Same contract as the Redis store, on the ``conversations`` and ``seen_updates`` tables:

* ``begin`` is one SELECT, run outside an explicit transaction (AUTOCOMMIT on PostgreSQL, no
  BEGIN on SQLite): one statement is already a consistent snapshot, and skipping
  BEGIN/ROLLBACK keeps the read to a single round trip.
* ``commit`` is one transaction: compare-and-set on ``version``, then remember the update id.
  The version check is in the UPDATE's WHERE clause, so concurrent writers (coroutines or
  OS processes) cannot both win; a racing first INSERT loses on the primary key.

What a turn owes (:mod:`dialogs.owed`) goes into ``owed_items`` in the commit's transaction,
and the conversation into ``owed_leases`` when nothing was owed before (the committer delivers:
LEAD); :meth:`SqlStateStore.settle` locks the conversation's row (PostgreSQL; SQLite writers
are serialised anyway), so a commit and a settle never miss each other's items.

Expiry: rows are not deleted on read. An expired row reads as ``data=None`` but keeps its
real version, so the caller's next commit (expecting that version) still compare-and-sets
correctly; :meth:`SqlStateStore.purge_expired` removes expired rows periodically.

For SQLite call :func:`storage.sqlite.configure_sqlite` on the engine first (WAL, busy timeout, and
``BEGIN IMMEDIATE`` for writes so writers queue instead of failing "database is locked").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, Clock, CommitResult, Snapshot
from storage.sql_statements import (
    BEGIN,
    CONVERSATIONS,
    INSERT,
    INSERT_OWED,
    LEASE_OF,
    LEASES,
    LOCK_CONVERSATION,
    MARK_SEEN,
    OWED,
    OWED_OF,
    SEEN_UPDATES,
    TAKE_LEASE,
    UPDATE,
    trim_statement,
)
from storage.sqlite import NO_BEGIN


def _read_options(engine: AsyncEngine, pooled: bool) -> dict[str, Any]:
    """How ``begin`` avoids BEGIN/ROLLBACK: driver autocommit, or our SQLite hook's flag.

    SQLite's driver-level AUTOCOMMIT is not used: resetting it on pool return would undo
    the ``isolation_level = None`` that :func:`configure_sqlite` relies on. Behind a pooler
    in transaction mode (``pooled``) the read stays in a transaction: the dialect prepares
    and then runs the statement, and outside a transaction the two may reach different
    server connections.
    """
    if engine.dialect.name == "sqlite":
        return {NO_BEGIN: True}
    return {} if pooled else {"isolation_level": "AUTOCOMMIT"}


class SqlStateStore:
    """:class:`dialogs.ports.StateStore` on an async SQLAlchemy engine (SQLite, PostgreSQL)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl_seconds: int,
        clock: Clock = time.time,
        seen_limit: int = 256,
        lease_seconds: float = 15.0,
        pooled: bool = False,
    ) -> None:
        """``pooled``: PostgreSQL is reached through PgBouncer's transaction pooling
        (``DATABASE_POOLING=transaction``)."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        if seen_limit <= 0:
            raise ValueError("seen_limit must be positive")
        self._engine = engine
        self._reader = engine.execution_options(**_read_options(engine, pooled))
        self._ttl = float(ttl_seconds)
        self._clock = clock
        self._trim = trim_statement(seen_limit)
        self._lease = lease_seconds

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        async with self._reader.connect() as conn:
            row = (await conn.execute(BEGIN, {"k": str(key), "u": update_id})).one()
        dup, version, data, expires_at = row
        if dup:
            return DUPLICATE
        if version is None:
            return Snapshot(None, 0)
        if expires_at <= self._clock():
            return Snapshot(None, version)  # expired: fresh data, real version (see module)
        return Snapshot(bytes(data), version)

    async def commit(
        self,
        key: ConversationKey,
        expected_version: int,
        data: bytes,
        update_id: int | None,
        owed: Sequence[tuple[str, bytes]] = (),
    ) -> CommitResult:
        now = self._clock()
        name = str(key)
        params = {
            "k": name,
            "v": expected_version,
            "d": data,
            "e": now + self._ttl,
            "u": update_id,
            "now": now,
            "until": now + self._lease,
        }
        result = CommitResult.LEAD
        try:
            async with self._engine.begin() as conn:
                if not await _write_state(conn, params):
                    return CommitResult.CONFLICT
                if update_id is not None:
                    # A duplicate id raises IntegrityError and rolls the state write back.
                    await conn.execute(MARK_SEEN, params)
                    await conn.execute(self._trim, params)
                if owed:
                    rows = [{"k": name, "i": item, "d": blob} for item, blob in owed]
                    await conn.execute(INSERT_OWED, rows)
                    if (await conn.execute(LEASE_OF, params)).first() is None:
                        await conn.execute(TAKE_LEASE, params)
                    else:
                        result = CommitResult.QUEUED
        except IntegrityError:
            return CommitResult.CONFLICT
        return result

    # -- what is owed (dialogs.ports.OwedStore) ----------------------------------------

    async def settle(self, key: ConversationKey, done: Sequence[str]) -> list[tuple[str, bytes]]:
        name = str(key)
        async with self._engine.begin() as conn:
            await conn.execute(LOCK_CONVERSATION, {"k": name})  # against a racing commit
            if done:
                await conn.execute(
                    delete(OWED).where(OWED.c.key == name).where(OWED.c.item_id.in_(done))
                )
            rows = [(item, bytes(blob)) for item, blob in await conn.execute(OWED_OF, {"k": name})]
            leases = LEASES.c.key == name
            if not rows:
                await conn.execute(delete(LEASES).where(leases))
                return []
            until = self._clock() + self._lease
            renewed = await conn.execute(update(LEASES).where(leases).values(lease_until=until))
            if renewed.rowcount == 0:
                await conn.execute(TAKE_LEASE, {"k": name, "until": until})
            return rows

    async def settle_many(
        self, batch: Sequence[tuple[ConversationKey, Sequence[str]]]
    ) -> list[list[tuple[str, bytes]]]:
        """One transaction per conversation, in turn (each locks its conversation against a
        racing commit; one transaction holding many such locks could deadlock with them)."""
        return [await self.settle(key, done) for key, done in batch]

    async def owed(self, key: ConversationKey) -> list[tuple[str, bytes]]:
        return await self.settle(key, ())

    async def claim(self, limit: int = 100) -> list[ConversationKey]:
        now = self._clock()
        async with self._reader.connect() as conn:  # the usual answer, nothing due: no lock
            due = [
                name
                for (name,) in await conn.execute(
                    select(LEASES.c.key).where(LEASES.c.lease_until <= now).limit(limit)
                )
            ]
        if not due:
            return []
        async with self._engine.begin() as conn:
            taken = await conn.execute(
                update(LEASES)
                .where(LEASES.c.key.in_(due))
                .where(LEASES.c.lease_until <= now)
                .values(lease_until=now + self._lease)
                .returning(LEASES.c.key)
            )
            return [ConversationKey.parse(name) for (name,) in taken]

    async def renew(self, keys: Sequence[ConversationKey], *, end: bool = False) -> None:
        if not keys:
            return
        until = 0.0 if end else self._clock() + self._lease
        async with self._engine.begin() as conn:
            await conn.execute(
                update(LEASES)
                .where(LEASES.c.key.in_([str(key) for key in keys]))
                .values(lease_until=until)
            )

    async def delete(self, key: ConversationKey) -> None:
        name = str(key)
        async with self._engine.begin() as conn:
            await conn.execute(delete(CONVERSATIONS).where(CONVERSATIONS.c.key == name))
            await conn.execute(delete(SEEN_UPDATES).where(SEEN_UPDATES.c.key == name))
            await conn.execute(delete(OWED).where(OWED.c.key == name))
            await conn.execute(delete(LEASES).where(LEASES.c.key == name))

    async def erase(self, key: ConversationKey) -> None:
        name = str(key)
        async with self._engine.begin() as conn:
            await conn.execute(delete(CONVERSATIONS).where(CONVERSATIONS.c.key == name))
            await conn.execute(delete(SEEN_UPDATES).where(SEEN_UPDATES.c.key == name))

    async def purge_finished(self, finished: Callable[[bytes], bool], *, limit: int = 1000) -> int:
        """Read the conversations (key, version, data), delete those ``finished`` picks whose
        version is unchanged; ``limit`` a run (housekeeping runs hourly)."""
        async with self._reader.connect() as conn:
            rows = (
                await conn.execute(
                    select(CONVERSATIONS.c.key, CONVERSATIONS.c.version, CONVERSATIONS.c.data)
                )
            ).all()
        picked = [(name, version) for name, version, data in rows if finished(bytes(data))]
        gone = 0
        async with self._engine.begin() as conn:
            for name, version in picked[:limit]:
                result = await conn.execute(
                    delete(CONVERSATIONS).where(
                        CONVERSATIONS.c.key == name, CONVERSATIONS.c.version == version
                    )
                )
                if result.rowcount:
                    gone += 1
                    await conn.execute(delete(SEEN_UPDATES).where(SEEN_UPDATES.c.key == name))
        return gone

    async def purge_owed(self, committed_before: Callable[[str], bool]) -> int:
        async with self._reader.connect() as conn:
            rows = (await conn.execute(select(OWED.c.key, OWED.c.item_id))).all()
        old = [(name, item) for name, item in rows if committed_before(item)]
        if not old:
            return 0
        async with self._engine.begin() as conn:
            for name, item in old:
                await conn.execute(delete(OWED).where(OWED.c.key == name, OWED.c.item_id == item))
            for name in {name for name, _ in old}:
                still = await conn.scalar(select(OWED.c.key).where(OWED.c.key == name).limit(1))
                if still is None:
                    await conn.execute(delete(LEASES).where(LEASES.c.key == name))
        return len(old)

    async def purge_expired(self) -> int:
        """Delete expired conversations and seen ids older than the TTL; return how many
        conversations went.

        Two short transactions rather than one, so a purge never holds conversation and
        seen locks at once against a committing writer (no lock-order cycle).
        """
        now = self._clock()
        async with self._engine.begin() as conn:
            gone = await conn.execute(
                delete(CONVERSATIONS).where(CONVERSATIONS.c.expires_at <= now)
            )
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(SEEN_UPDATES).where(SEEN_UPDATES.c.seen_at <= now - self._ttl)
            )
        return gone.rowcount

    async def close(self) -> None:
        """Nothing to do: the engine belongs to the caller, who disposes of it."""


async def _write_state(conn: AsyncConnection, params: dict[str, Any]) -> bool:
    """Compare-and-set the conversation row; False when another writer got there first.

    Version 0 means "no row yet": INSERT, and a racing INSERT raises IntegrityError on the
    primary key (handled by the caller). Otherwise the version test is in the WHERE clause.
    """
    if params["v"] == 0:
        await conn.execute(INSERT, params)
        return True
    result = await conn.execute(UPDATE, params)
    return result.rowcount == 1
