"""A small pool of asyncpg connections for the hot statements (storage/hot_sql.py).

asyncpg's own ``Pool.acquire`` costs ~30 µs of CPU here (a holder object, a timeout per
acquire, the reset and validity checks), twice what the prepared statement it guards costs
(~15 µs): measured by a loop of ``acquire`` + ``fetchrow`` against the local PostgreSQL, 44
µs a statement with asyncpg's pool against 15 µs for ``fetchrow`` alone, 66 µs with 2,000
statements in flight. This pool is a deque of idle connections and a queue of waiters.

A connection that fails other than by the server's answer (the server restarted, a pooler or
a firewall cut it, a cancellation mid-statement) is closed and forgotten; the next statement
opens a new one. A statement the server refused (a constraint) leaves it in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import asyncpg

Init = Callable[[asyncpg.Connection], Awaitable[None]]


class LightPool:
    def __init__(self, connect: Mapping[str, Any], *, max_size: int, init: Init) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._connect = dict(connect)
        self._max_size = max_size
        self._init = init
        self._idle: deque[asyncpg.Connection] = deque()
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0  # connections existing or being opened
        self._closed = False

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        connection = await self._take()
        try:
            yield connection
        except asyncpg.PostgresError:
            self._give_back(connection)  # the server answered: in step (unless it closed)
            raise
        except BaseException:  # the network, a cancellation mid-statement: not reusable
            self._discard(connection)
            raise
        self._give_back(connection)

    async def _take(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the pool is closed")
            if self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                self._open -= 1
                continue
            if self._open < self._max_size:
                return await self._new()
            waiter: asyncio.Future[asyncpg.Connection | None] = (
                asyncio.get_running_loop().create_future()
            )
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self._give_back(waiter.result())  # handed over as we were cancelled
                raise
            if handed is not None:
                return handed
            # None: a connection was discarded, so there is room to open one: loop

    async def _new(self) -> asyncpg.Connection:
        self._open += 1
        try:
            connection = await asyncpg.connect(**self._connect)
            try:
                await self._init(connection)
            except BaseException:
                await connection.close()
                raise
        except BaseException:
            self._open -= 1
            self._room()
            raise
        return connection

    def _give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            self._open -= 1
            if not connection.is_closed():
                connection.terminate()
            self._room()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _discard(self, connection: asyncpg.Connection) -> None:
        self._open -= 1
        connection.terminate()
        self._room()

    def _room(self) -> None:
        """A connection went away: the first waiter may open one (it is handed None)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = list(self._idle), deque()
        self._open -= len(idle)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the pool is closed"))
        self._waiters.clear()
        await asyncio.gather(*(c.close() for c in idle), return_exceptions=True)
