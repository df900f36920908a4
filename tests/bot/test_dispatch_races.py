"""The dispatcher's hand-overs at the moment a conversation's lease ends (bot/dispatch.py), on
the real Redis store: what arrives while the last settle is on the wire is still delivered."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.dispatch import Dispatcher
from dialogs.events import ConversationKey
from dialogs.owed import JsonCodec, OwedItem, owed_items
from dialogs.ports import CommitResult
from dialogs.replies import Reply, Text
from storage.redis_state import RedisStateStore
from tests.storage.conftest import backend

pytestmark = pytest.mark.chaos  # issue 14: nothing owed is lost

KEY = ConversationKey(1, 500, 500)
CODEC = JsonCodec()


class HeldSettle(RedisStateStore):
    """The real store, whose settles (the dispatcher's, in batches) wait for ``release`` once
    ``held`` is set."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.settling = asyncio.Event()
        self.release = asyncio.Event()
        self.held = False

    async def settle_many(
        self, batch: Sequence[tuple[ConversationKey, Sequence[str]]]
    ) -> list[list[tuple[str, bytes]]]:
        remaining = await super().settle_many(batch)
        if self.held:
            self.settling.set()
            await self.release.wait()
        return remaining


class Screen:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def reply(self, item: OwedItem, replies: Sequence[Reply]) -> None:
        self.texts += [str(r.text.msgid) for r in replies]  # type: ignore[union-attr]

    async def effect(self, item: OwedItem) -> list[Reply]:
        return []


@contextlib.asynccontextmanager
async def held(tmp_path: Path) -> AsyncIterator[tuple[HeldSettle, Dispatcher, Screen]]:
    """The real Redis store whose settles can be held, and a dispatcher on it."""
    async with backend("redis", tmp_path) as where:
        store = HeldSettle(
            Redis.from_url(where.url), ttl_seconds=60, key_builder=where.key_builder()
        )
        screen = Screen()
        dispatcher = Dispatcher(store, CODEC, screen, linger_seconds=0.01)
        try:
            yield store, dispatcher, screen
        finally:
            await dispatcher.close()
            await store.close()


def turn(version: int, text: str) -> tuple[OwedItem, ...]:
    """What the turn that commits ``version`` owes: one reply."""
    return owed_items(
        KEY,
        version=version,
        update_id=version,
        locale="en",
        effects=(),
        reply_list=[Reply(Text(text))],
    )


async def commit(store: HeldSettle, version: int, items: tuple[OwedItem, ...]) -> CommitResult:
    """The turn that commits ``version`` (from ``version - 1``) with what it owes."""
    owed = [(item.id, CODEC.encode(item)) for item in items]
    return await store.commit(KEY, version - 1, b"s%d" % version, version, owed)


async def test_a_best_effort_reply_sent_while_the_lease_ends_is_delivered(tmp_path: Path) -> None:
    async with held(tmp_path) as (store, dispatcher, screen):
        items = turn(1, "committed")
        result = await commit(store, 1, items)
        store.held = True
        dispatcher.submit(items, lead=bool(result))
        await asyncio.wait_for(store.settling.wait(), 5)  # the last settle is on its way
        # e.g. the apology for an update that could not be applied: no commit stored it
        dispatcher.send_now(KEY, [Reply(Text("best effort"))], "en")
        store.held = False
        store.release.set()
        await asyncio.wait_for(dispatcher.settled(), 5)
        assert screen.texts == ["committed", "best effort"]
        assert await store.owed(KEY) == []


async def test_a_commit_that_takes_the_lease_while_it_ends_is_settled(tmp_path: Path) -> None:
    """The settle that gives the lease up is on the wire when this process commits the
    conversation's next turn (which therefore leads): that turn is delivered and settled,
    not left in the store for a takeover to send again."""
    async with held(tmp_path) as (store, dispatcher, screen):
        first = turn(1, "first")
        result = await commit(store, 1, first)
        store.held = True
        dispatcher.submit(first, lead=bool(result))
        await asyncio.wait_for(store.settling.wait(), 5)  # the lease has just ended
        second = turn(2, "second")
        assert await commit(store, 2, second) is CommitResult.LEAD
        dispatcher.submit(second, lead=True)
        store.held = False
        store.release.set()
        await asyncio.wait_for(dispatcher.settled(), 5)
        assert screen.texts == ["first", "second"]
        assert await store.owed(KEY) == []


async def test_replies_are_counted_under_their_conversations_app(tmp_path: Path) -> None:
    """One dispatcher serves Telegram and WhatsApp in one process: each reply's delivery is
    counted under its own conversation's app."""
    from prometheus_client import REGISTRY

    def sent(channel: str) -> float:
        labels = {"channel": channel, "outcome": "sent"}
        return REGISTRY.get_sample_value("onboard_deliveries_total", labels) or 0.0

    async with backend("redis", tmp_path) as where:
        store = RedisStateStore(
            Redis.from_url(where.url), ttl_seconds=60, key_builder=where.key_builder()
        )
        dispatcher = Dispatcher(store, JsonCodec(), Screen(), linger_seconds=0.01)
        before = {name: sent(name) for name in ("telegram", "whatsapp")}
        try:
            whatsapp = ConversationKey(1, 3610000, 3610000, channel="whatsapp")
            dispatcher.send_now(whatsapp, [Reply(Text("a"))], "en")
            dispatcher.send_now(KEY, [Reply(Text("b"))], "en")
            await asyncio.wait_for(dispatcher.settled(), 5)
            assert sent("whatsapp") == before["whatsapp"] + 1
            assert sent("telegram") == before["telegram"] + 1
        finally:
            await dispatcher.close()
            await store.close()
