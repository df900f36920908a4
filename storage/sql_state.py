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

For SQLite call :func:`configure_sqlite` on the engine first (WAL, busy timeout, and
``BEGIN IMMEDIATE`` for writes so writers queue instead of failing "database is locked").
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Table,
    bindparam,
    delete,
    event,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Delete, Select

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, Clock, CommitResult, Snapshot
from storage.models import Base

CONVERSATIONS: Table = Base.metadata.tables["conversations"]
SEEN_UPDATES: Table = Base.metadata.tables["seen_updates"]
OWED: Table = Base.metadata.tables["owed_items"]
LEASES: Table = Base.metadata.tables["owed_leases"]

_NO_BEGIN = "onboard_sqlite_no_begin"
"""Execution option read by the SQLite ``begin`` hook: run without a transaction."""


# -- SQLite setup -------------------------------------------------------------------------


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Take BEGIN away from the driver (we emit it), set a busy timeout, then WAL."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=5000")
        _enable_wal(cursor)
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL unless it already is, tolerating a racing switch.

    WAL is a property of the file. Switching needs an exclusive lock, and SQLite refuses
    it at once (no busy wait) while another process is switching too. The read first
    waits out such a switch (busy_timeout) and makes the connection notice a file already
    in WAL; if our own switch still loses the race, the winner's WAL applies to this
    connection from its next transaction. Correctness never depends on WAL (writers are
    serialised by BEGIN IMMEDIATE either way), only reader/writer concurrency does.
    """
    cursor.execute("SELECT count(*) FROM sqlite_master")
    cursor.fetchone()
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise


def _sqlite_on_begin(conn: Connection) -> None:
    """Writers take the write lock up front, so they wait on busy_timeout in order.

    A deferred BEGIN that later upgrades to a write lock fails at once with SQLITE_BUSY
    when another writer got in first; BEGIN IMMEDIATE makes the wait happen at BEGIN.
    """
    if not conn.get_execution_options().get(_NO_BEGIN, False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure_sqlite(engine: AsyncEngine) -> None:
    """Install the SQLite transaction recipe on ``engine`` (idempotent).

    Call it before the engine opens its first connection.
    """
    sync_engine = engine.sync_engine
    if sync_engine.dialect.name != "sqlite":
        raise ValueError(f"not a SQLite engine: {sync_engine.dialect.name}")
    if event.contains(sync_engine, "connect", _sqlite_on_connect):
        return
    event.listen(sync_engine, "connect", _sqlite_on_connect)
    event.listen(sync_engine, "begin", _sqlite_on_begin)


# -- statements (built once; values are bound per call) --------------------------------


def _begin_statement() -> Select[Any]:
    """One row: whether (k, u) was seen, and the conversation (NULLs when absent).

    A one-row derived table outer-joined to ``conversations`` keeps the answer to a
    single statement even when the conversation does not exist.
    """
    probe = select(bindparam("k", type_=CONVERSATIONS.c.key.type).label("k")).subquery("probe")
    seen = (
        exists()
        .where(SEEN_UPDATES.c.key == probe.c.k)
        .where(SEEN_UPDATES.c.update_id == bindparam("u", type_=BigInteger))
    )
    conv = CONVERSATIONS.c
    return select(seen.label("dup"), conv.version, conv.data, conv.expires_at).select_from(
        probe.outerjoin(CONVERSATIONS, conv.key == probe.c.k)
    )


_BEGIN = _begin_statement()
_INSERT = insert(CONVERSATIONS).values(
    key=bindparam("k"), version=1, data=bindparam("d"), expires_at=bindparam("e")
)
_UPDATE = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.key == bindparam("k"))
    .where(CONVERSATIONS.c.version == bindparam("v"))
    .values(version=bindparam("v") + 1, data=bindparam("d"), expires_at=bindparam("e"))
)
_MARK_SEEN = insert(SEEN_UPDATES).values(
    key=bindparam("k"), update_id=bindparam("u"), seen_at=bindparam("now")
)
_INSERT_OWED = insert(OWED).values(key=bindparam("k"), item_id=bindparam("i"), data=bindparam("d"))
_LEASE_OF = select(LEASES.c.key).where(LEASES.c.key == bindparam("k"))
_TAKE_LEASE = insert(LEASES).values(key=bindparam("k"), lease_until=bindparam("until"))
_OWED_OF = (
    select(OWED.c.item_id, OWED.c.data).where(OWED.c.key == bindparam("k")).order_by(OWED.c.item_id)
)
_LOCK_CONVERSATION = (
    select(CONVERSATIONS.c.key).where(CONVERSATIONS.c.key == bindparam("k")).with_for_update()
)


def _trim_statement(seen_limit: int) -> Delete:
    """Delete a key's seen ids older than its ``seen_limit``-th newest (none if fewer)."""
    cutoff = (
        select(SEEN_UPDATES.c.update_id)
        .where(SEEN_UPDATES.c.key == bindparam("k"))
        .order_by(SEEN_UPDATES.c.update_id.desc())
        .offset(seen_limit - 1)
        .limit(1)
        .scalar_subquery()
    )
    return (
        delete(SEEN_UPDATES)
        .where(SEEN_UPDATES.c.key == bindparam("k"))
        .where(SEEN_UPDATES.c.update_id < cutoff)
    )


def _read_options(engine: AsyncEngine, pooled: bool) -> dict[str, Any]:
    """How ``begin`` avoids BEGIN/ROLLBACK: driver autocommit, or our SQLite hook's flag.

    SQLite's driver-level AUTOCOMMIT is not used: resetting it on pool return would undo
    the ``isolation_level = None`` that :func:`configure_sqlite` relies on. Behind a pooler
    in transaction mode (``pooled``) the read stays in a transaction: the dialect prepares
    and then runs the statement, and outside a transaction the two may reach different
    server connections.
    """
    if engine.dialect.name == "sqlite":
        return {_NO_BEGIN: True}
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
        self._trim = _trim_statement(seen_limit)
        self._lease = lease_seconds

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        async with self._reader.connect() as conn:
            row = (await conn.execute(_BEGIN, {"k": str(key), "u": update_id})).one()
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
                    await conn.execute(_MARK_SEEN, params)
                    await conn.execute(self._trim, params)
                if owed:
                    rows = [{"k": name, "i": item, "d": blob} for item, blob in owed]
                    await conn.execute(_INSERT_OWED, rows)
                    if (await conn.execute(_LEASE_OF, params)).first() is None:
                        await conn.execute(_TAKE_LEASE, params)
                    else:
                        result = CommitResult.QUEUED
        except IntegrityError:
            return CommitResult.CONFLICT
        return result

    # -- what is owed (dialogs.ports.OwedStore) ----------------------------------------

    async def settle(self, key: ConversationKey, done: Sequence[str]) -> list[tuple[str, bytes]]:
        name = str(key)
        async with self._engine.begin() as conn:
            await conn.execute(_LOCK_CONVERSATION, {"k": name})  # against a racing commit
            if done:
                await conn.execute(
                    delete(OWED).where(OWED.c.key == name).where(OWED.c.item_id.in_(done))
                )
            rows = [(item, bytes(blob)) for item, blob in await conn.execute(_OWED_OF, {"k": name})]
            leases = LEASES.c.key == name
            if not rows:
                await conn.execute(delete(LEASES).where(leases))
                return []
            until = self._clock() + self._lease
            renewed = await conn.execute(update(LEASES).where(leases).values(lease_until=until))
            if renewed.rowcount == 0:
                await conn.execute(_TAKE_LEASE, {"k": name, "until": until})
            return rows

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
        await conn.execute(_INSERT, params)
        return True
    result = await conn.execute(_UPDATE, params)
    return result.rowcount == 1
