"""SQL on the update's path: statements built and compiled once, run the cheapest way.

SQLAlchemy builds and compiles a statement object on every call, and its async layer adds a
greenlet hop and a pooled ``Connection`` per call: ~0.5-0.7 ms of CPU per statement, a third
of the bot's CPU per update in ``python -m bench --profile``. The statements every
conversation runs (the CRM match, the hand-off token insert) are SQLAlchemy Core statements
with bind parameters, built once by their store. A :class:`HotPath` runs them:

* :class:`EnginePath` (any database, SQLite included): through the store's ``AsyncEngine``;
  the compiled form comes from SQLAlchemy's statement cache (~0.3 ms).
* :class:`AsyncpgPath` (PostgreSQL): the statement is compiled once by SQLAlchemy's asyncpg
  dialect and run on a small pool of asyncpg connections of its own (storage/light_pool.py)
  as a server-side prepared statement (~15 µs; asyncpg caches the preparation per
  connection). It owns connections: close it.

Both return plain row tuples; JSON columns are decoded the way SQLAlchemy decodes them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from storage.db import Pooling
from storage.light_pool import LightPool

HOT_POOL_SIZE = 16
"""Connections of the asyncpg pool per process by default (beside the engine's own pool, see
``storage.db.Pooling``): a hot statement holds one for ~0.3 ms."""


class HotPath(Protocol):
    async def first(self, statement: Executable, values: Mapping[str, Any]) -> Sequence[Any] | None:
        """The first row of a query, or None."""
        ...

    async def execute(self, statement: Executable, values: Mapping[str, Any]) -> None:
        """Run a write in a transaction of its own (committed when this returns)."""
        ...

    async def execute_many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a write once per row, all in one transaction."""
        ...

    async def close(self) -> None: ...


class EnginePath:
    """Hot statements through the engine (SQLite, or PostgreSQL without the asyncpg path)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def first(self, statement: Executable, values: Mapping[str, Any]) -> Sequence[Any] | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement, dict(values))).first()
        return None if row is None else tuple(row)

    async def execute(self, statement: Executable, values: Mapping[str, Any]) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(statement, dict(values))

    async def execute_many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(statement, [dict(row) for row in rows])

    async def close(self) -> None:
        return None  # the engine belongs to whoever made it


class _Compiled:
    __slots__ = ("names", "source", "sql")

    def __init__(self, source: Executable, sql: str, names: Sequence[str]) -> None:
        self.source = source  # held, so that its id() is never reused
        self.sql = sql
        self.names = tuple(names)


async def _json_codecs(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class AsyncpgPath:
    """Hot statements as prepared statements on an asyncpg pool (PostgreSQL only)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        connect_args: Mapping[str, Any] | None = None,
        max_size: int = HOT_POOL_SIZE,
        pooled: bool = False,
    ) -> None:
        """``pooled``: a pooler in transaction mode sits in front of PostgreSQL
        (``storage.db.Pooling``): each statement runs in a transaction of its own, so that its
        unnamed preparation and its execution reach the same server connection."""
        if engine.dialect.name != "postgresql":
            raise ValueError("AsyncpgPath needs a PostgreSQL engine")
        self._dialect = engine.dialect
        # The URL read the way the engine's dialect reads it (host, port, ssl, ...), plus the
        # ``connect_args`` the engine was created with (SQLAlchemy keeps no public copy).
        _, options = engine.dialect.create_connect_args(engine.url)
        options = {**options, **(connect_args or {})}
        if "prepared_statement_cache_size" in options:  # the dialect's name for asyncpg's
            cache_size = options.pop("prepared_statement_cache_size")
            options["statement_cache_size"] = min(
                cache_size, options.get("statement_cache_size", cache_size)
            )
        options.pop("prepared_statement_name_func", None)
        self._connect = options
        self._max_size = max_size
        self._pooled = pooled
        self._compiled: dict[int, _Compiled] = {}
        self._pool: LightPool | None = None
        self._opening = asyncio.Lock()

    def _compile(self, statement: Executable) -> _Compiled:
        found = self._compiled.get(id(statement))
        if found is None:
            compiled = statement.compile(dialect=self._dialect)  # type: ignore[attr-defined]
            found = _Compiled(statement, compiled.string, compiled.positiontup or ())
            self._compiled[id(statement)] = found
        return found

    async def _ready(self) -> LightPool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = LightPool(
                        self._connect, max_size=self._max_size, init=_json_codecs
                    )
        return self._pool

    async def first(self, statement: Executable, values: Mapping[str, Any]) -> Sequence[Any] | None:
        compiled = self._compile(statement)
        pool = await self._ready()
        async with pool.acquire() as connection:
            if self._pooled:
                async with connection.transaction():
                    row = await connection.fetchrow(
                        compiled.sql, *(values[n] for n in compiled.names)
                    )
            else:
                row = await connection.fetchrow(compiled.sql, *(values[n] for n in compiled.names))
        return None if row is None else tuple(row)

    async def execute(self, statement: Executable, values: Mapping[str, Any]) -> None:
        """Raises SQLAlchemy's ``IntegrityError`` for a violated constraint, as the SQLAlchemy
        path does (callers treat a row stored by an earlier try as stored)."""
        compiled = self._compile(statement)
        pool = await self._ready()
        try:
            async with pool.acquire() as connection:  # asyncpg autocommits outside a transaction
                if self._pooled:
                    async with connection.transaction():
                        await connection.execute(compiled.sql, *(values[n] for n in compiled.names))
                else:
                    await connection.execute(compiled.sql, *(values[n] for n in compiled.names))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(compiled.sql, None, exc) from None

    async def execute_many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        """asyncpg's ``executemany``: one prepared statement, the rows pipelined in binary,
        in one transaction (SQLAlchemy's executemany cost ~50 µs of CPU a row here)."""
        compiled = self._compile(statement)
        pool = await self._ready()
        names = compiled.names
        async with pool.acquire() as connection:
            args = [[row[n] for n in names] for row in rows]
            if self._pooled:
                async with connection.transaction():
                    await connection.executemany(compiled.sql, args)
            else:
                await connection.executemany(compiled.sql, args)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


def hot_path(
    engine: AsyncEngine,
    connect_args: Mapping[str, Any] | None = None,
    *,
    pooling: Pooling | None = None,
) -> HotPath:
    """The fastest path for ``engine``'s database (``connect_args`` and ``pooling`` as given
    to the engine). Close it before disposing of the engine."""
    if engine.dialect.name == "postgresql":
        pooling = pooling or Pooling()
        return AsyncpgPath(
            engine,
            connect_args={**pooling.connect_args(), **(connect_args or {})},
            max_size=pooling.hot_size,
            pooled=pooling.transaction,
        )
    return EnginePath(engine)
