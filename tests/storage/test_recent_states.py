"""A turn that starts from this process's last commit (storage/recent.py), on real Redis.

Two stores on one Redis stand for two processes: what one commits the other's remembered
state does not know, and the commit script must catch it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dialogs.events import ConversationKey
from dialogs.ports import CommitResult
from storage import recent as recent_module
from storage.redis_state import RedisStateStore

from .conftest import KEY, Backend, backend
from .test_redis_round_trips import SENT, CountingConnection, _sent_by


@pytest.fixture
async def where(tmp_path: Path) -> AsyncIterator[Backend]:
    async with backend("redis", tmp_path) as place:
        yield place


def _store(where: Backend, **options: object) -> RedisStateStore:
    client = Redis.from_url(where.url, connection_class=CountingConnection)
    return RedisStateStore(client, ttl_seconds=60, key_builder=where.key_builder(), **options)  # type: ignore[arg-type]


async def test_the_next_turn_here_starts_without_a_read(where: Backend) -> None:
    store = _store(where)
    try:
        assert await store.commit(KEY, 0, b"one", 1) is CommitResult.LEAD
        before = SENT[0]
        snapshot = await store.begin(KEY, 2)
        assert SENT[0] == before  # nothing on the wire
        assert (snapshot.data, snapshot.version) == (b"one", 1)
        assert await _sent_by(store.commit(KEY, 1, b"two", 2)) == 1
        assert (await _store_read(where)) == (b"two", 2)
        # a redelivery of an update committed here is known without Redis
        assert (await store.begin(KEY, 2)).duplicate
    finally:
        await store.close()


async def _store_read(where: Backend) -> tuple[bytes | None, int]:
    reader = _store(where, recent=0)
    try:
        snapshot = await reader.begin(KEY, None)
        return snapshot.data, snapshot.version
    finally:
        await reader.close()


async def test_a_commit_by_another_process_is_caught(where: Backend) -> None:
    here, there = _store(where), _store(where)
    try:
        assert await here.commit(KEY, 0, b"one", 1)
        snapshot = await there.begin(KEY, 2)  # read from Redis
        assert await there.commit(KEY, snapshot.version, b"two (there)", 2)
        stale = await here.begin(KEY, 3)
        assert stale.data == b"one"  # remembered: no read
        assert await here.commit(KEY, stale.version, b"three on one", 3) is CommitResult.CONFLICT
        fresh = await here.begin(KEY, 3)  # the stale entry is gone: read
        assert (fresh.data, fresh.version) == (b"two (there)", 2)
        assert await here.commit(KEY, 2, b"three", 3)
        assert (await _store_read(where)) == (b"three", 3)
    finally:
        await here.close()
        await there.close()


async def test_an_update_applied_elsewhere_is_a_duplicate_at_commit(where: Backend) -> None:
    here, there = _store(where), _store(where)
    try:
        assert await here.commit(KEY, 0, b"one", 1)
        remembered = await here.begin(KEY, 2)
        # the same update redelivered to another process, which applies it first
        assert await there.commit(KEY, 1, b"two", 2)
        assert await here.commit(KEY, remembered.version, b"two again", 2) is (
            CommitResult.DUPLICATE
        )
        assert (await _store_read(where)) == (b"two", 2)
    finally:
        await here.close()
        await there.close()


async def test_a_state_erased_and_walked_again_to_the_same_version_is_not_ours(
    where: Backend,
) -> None:
    """The version alone cannot tell: /forget in another process, then a new walk there up to
    the version remembered here. The data's digest does."""
    here, there = _store(where), _store(where)
    try:
        assert await here.commit(KEY, 0, b"before /forget", 1)
        await there.erase(KEY)
        assert await there.commit(KEY, 0, b"after /forget", 7)
        remembered = await here.begin(KEY, 8)
        assert remembered.version == 1
        assert remembered.data == b"before /forget"
        assert await here.commit(KEY, 1, b"resurrected", 8) is CommitResult.CONFLICT
        assert (await _store_read(where)) == (b"after /forget", 1)
    finally:
        await here.close()
        await there.close()


async def test_conversations_hopping_between_processes_turn_it_off_and_back_on(
    where: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes taking turns on every conversation: nearly every entry is stale, so the
    stores stop starting turns from them (and read instead); alone again, they start again."""
    monkeypatch.setattr(recent_module, "WEIGHT", 0.2)
    here, there = _store(where), _store(where)
    stores = (here, there)
    try:
        keys = [ConversationKey(1, 1000 + n, 1000 + n) for n in range(20)]
        update = 0
        for turn in range(6):
            store = stores[turn % 2]
            for key in keys:
                update += 1
                for _attempt in range(3):
                    snapshot = await store.begin(key, update)
                    if await store.commit(key, snapshot.version, b"x%d" % update, update):
                        break
        assert not here._recent.enabled
        assert not there._recent.enabled
        for _ in range(3):  # one process alone: its reads find its entries current
            for key in keys:
                update += 1
                snapshot = await here.begin(key, update)
                assert await here.commit(key, snapshot.version, b"alone", update)
        assert here._recent.enabled
        before = SENT[0]
        await here.begin(keys[0], update + 1)
        assert SENT[0] == before
    finally:
        await here.close()
        await there.close()
