"""The lean hot path keeps the behaviour: the webhook's JSON reader maps every captured update
exactly like the ``Update``-based one, and the pipelined Redis store stays atomic under load."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from redis.asyncio import Redis
from telegram import Bot, Update

from bot.channels.telegram.parse import event_from_json, event_from_update
from dialogs.events import ConversationKey
from storage.redis_state import RedisStateStore

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "data" / "telegram").glob("update_*.json"))
BOT_ID = 6097692400


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_json_reader_matches_the_update_reader(sample: Path) -> None:
    data = json.loads(sample.read_text(encoding="utf-8"))
    expected = event_from_update(Update.de_json(data, Bot("1:x")), BOT_ID)
    got = event_from_json(data, BOT_ID)
    assert (got[0] if got else None) == expected
    if got is not None:
        query = data.get("callback_query")
        assert got[1] == (query["id"] if query else None)


@pytest.mark.parametrize(
    "data",
    [
        {"update_id": 1},
        {"update_id": 1, "message": {"chat": {"id": 5, "type": "private"}}},  # no sender
        {"update_id": 1, "message": "not an object"},
        {"update_id": 1, "callback_query": {"id": "1", "from": {"id": 5}}},  # inline: no chat
        {"update_id": 1, "edited_message": {"text": "x"}},
    ],
)
def test_json_reader_ignores_what_it_does_not_serve(data: dict[str, object]) -> None:
    assert event_from_json(data, BOT_ID) is None


async def test_pipelined_store_under_many_concurrent_turns(app_redis: str) -> None:
    store = RedisStateStore.from_url(app_redis, ttl_seconds=60, max_connections=4)
    keys = [ConversationKey(1, chat, chat) for chat in range(300)]
    try:
        assert all(await asyncio.gather(*(store.commit(k, 0, b"a", 1) for k in keys)))
        # The same version again: every one is a conflict, none is written.
        assert not any(await asyncio.gather(*(store.commit(k, 0, b"b", 2) for k in keys)))
        snapshots = await asyncio.gather(*(store.begin(k, 3) for k in keys))
        assert {(s.data, s.version) for s in snapshots} == {(b"a", 1)}
        duplicates = await asyncio.gather(*(store.begin(k, 1) for k in keys))
        assert all(s.duplicate for s in duplicates)
    finally:
        await store.close()


async def test_pipelined_store_reloads_its_scripts_after_a_flush(app_redis: str) -> None:
    store = RedisStateStore.from_url(app_redis, ttl_seconds=60)
    key = ConversationKey(1, 2, 3)
    admin = Redis.from_url(app_redis)
    try:
        assert await store.commit(key, 0, b"x", 1)
        await admin.script_flush()  # as after a Redis restart: NOSCRIPT, then EVAL loads it
        snapshot = await store.begin(key, 2)
        assert (snapshot.data, snapshot.version) == (b"x", 1)
        assert await store.commit(key, 1, b"y", 2)
    finally:
        await admin.aclose()
        await store.close()
