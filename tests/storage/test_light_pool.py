"""The hot statements' connection pool (storage/light_pool.py) against the real PostgreSQL."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from storage.light_pool import LightPool

DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
INITIALISED: list[int] = []


async def _init(connection: asyncpg.Connection) -> None:
    INITIALISED.append(id(connection))


def _pool(size: int) -> LightPool:
    return LightPool({"dsn": DSN}, max_size=size, init=_init)


async def _backend_pid(pool: LightPool) -> int:
    async with pool.acquire() as connection:
        return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def test_statements_reuse_connections_and_never_exceed_the_size() -> None:
    pool = _pool(2)
    try:
        busy = [0]
        most = [0]

        async def statement(n: int) -> int:
            async with pool.acquire() as connection:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
                await connection.execute("SELECT pg_sleep(0.001)")
                value = int(await connection.fetchval("SELECT $1::int", n))
                busy[0] -= 1
                return value

        before = len(INITIALISED)
        assert await asyncio.gather(*(statement(n) for n in range(50))) == list(range(50))
        assert most[0] == 2
        assert len(INITIALISED) - before == 2  # two connections opened, each initialised once
    finally:
        await pool.close()


async def test_a_refused_statement_keeps_the_connection() -> None:
    pool = _pool(1)
    try:
        pid = await _backend_pid(pool)
        with pytest.raises(asyncpg.PostgresError):
            async with pool.acquire() as connection:
                await connection.execute("SELECT 1/0")
        assert await _backend_pid(pool) == pid
    finally:
        await pool.close()


async def test_a_connection_cut_by_the_server_is_replaced() -> None:
    pool = _pool(1)
    admin = await asyncpg.connect(DSN)
    try:
        pid = await _backend_pid(pool)
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.1)
        # The cut is noticed when the idle connection is taken (skipped: a new one) or by
        # the statement on it (which fails; the one after runs on a new connection).
        try:
            first = await _backend_pid(pool)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            first = await _backend_pid(pool)
        assert first != pid
        assert await _backend_pid(pool) == first
    finally:
        await admin.close()
        await pool.close()


async def test_a_statement_cancelled_mid_way_does_not_leave_a_busy_connection() -> None:
    pool = _pool(1)
    try:
        pid = await _backend_pid(pool)

        async def slow() -> None:
            async with pool.acquire() as connection:
                await connection.execute("SELECT pg_sleep(5)")

        task = asyncio.ensure_future(slow())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.wait_for(_backend_pid(pool), 3) != pid
    finally:
        await pool.close()


async def test_waiters_get_connections_in_turn_and_close_refuses_new_statements() -> None:
    pool = _pool(1)
    order: list[int] = []

    async def statement(n: int) -> None:
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT 1")
            order.append(n)

    await asyncio.gather(*(statement(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]
    await pool.close()
    with pytest.raises(asyncpg.InterfaceError):
        async with pool.acquire():
            pass
