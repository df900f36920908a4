"""The Redis store's promise: once its scripts are loaded, one round trip per call.

A connection class counts the packed commands it sends (every command, pipelined or not,
goes through ``send_packed_command``), so the count is what actually hit the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection

from storage.redis_state import RedisStateStore

from .conftest import KEY, backend

SENT: list[int] = [0]


class CountingConnection(Connection):
    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        SENT[0] += 1
        await super().send_packed_command(command, check_health)


@pytest.fixture
async def counted_store(tmp_path: Path) -> AsyncIterator[RedisStateStore]:
    async with backend("redis", tmp_path) as where:
        client = Redis.from_url(where.url, connection_class=CountingConnection)
        # (recent=0: every begin reads; a begin answered from the last commit is 0 round
        # trips, tests/storage/test_recent_states.py)
        store = RedisStateStore(client, ttl_seconds=60, key_builder=where.key_builder(), recent=0)
        try:
            # Warm up: connect (handshake) and load both scripts (NOSCRIPT -> SCRIPT LOAD).
            assert await store.commit(KEY, 0, b"warm", 1)
            await store.begin(KEY, 2)
            yield store
        finally:
            await store.close()


async def _sent_by(call: Awaitable[object]) -> int:
    before = SENT[0]
    await call
    return SENT[0] - before


async def test_begin_is_one_round_trip(counted_store: RedisStateStore) -> None:
    assert await _sent_by(counted_store.begin(KEY, 3)) == 1
    assert await _sent_by(counted_store.begin(KEY, 1)) == 1  # the duplicate path too
    assert await _sent_by(counted_store.begin(KEY, None)) == 1


async def test_commit_is_one_round_trip(counted_store: RedisStateStore) -> None:
    assert await _sent_by(counted_store.commit(KEY, 1, b"next", 3)) == 1
    assert await _sent_by(counted_store.commit(KEY, 1, b"stale", 4)) == 1  # conflict path
    assert await _sent_by(counted_store.commit(KEY, 2, b"no id", None)) == 1
