"""Telegram's pacing shared in Redis (bot/channels/telegram/shared_pacing.py): two pacers on one
Redis are two processes (or two machines) of one bot, and they share every budget. Real Redis, real
sleeps; the limits are scaled down (a group's minute becomes a second) so each test takes
seconds."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.channels.telegram.ratelimit import TelegramLimits
from bot.channels.telegram.shared_pacing import PacingUnavailable, SharedPacer
from storage.outage import is_outage

pytestmark = pytest.mark.cluster
GROUP = -1001234567890
FAST_BOT = 10_000.0  # the bot-wide cap out of the way where a test looks at one chat
Pair = Callable[[TelegramLimits], tuple[SharedPacer, SharedPacer]]


@pytest.fixture
def bot_id() -> int:
    return secrets.randbelow(10**9) + 1  # keys of their own, whatever another test left


@pytest.fixture
async def two(app_redis: str, bot_id: int) -> AsyncIterator[Pair]:
    made: list[SharedPacer] = []

    def pair(limits: TelegramLimits) -> tuple[SharedPacer, SharedPacer]:
        made.extend(SharedPacer.from_url(app_redis, bot_id, limits) for _ in range(2))
        return made[-2], made[-1]

    yield pair
    for pacer in made:
        await pacer.close()


async def sent_at(pacer: SharedPacer, chat: int | None) -> float:
    await pacer.wait(chat)
    return time.monotonic()


async def spread(a: SharedPacer, b: SharedPacer, chats: list[int | None]) -> list[float]:
    """Every message asked for at once, alternately by ``a`` and ``b``; when each may leave."""
    pacers = [a, b]
    asks = [sent_at(pacers[n % 2], chat) for n, chat in enumerate(chats)]
    return sorted(await asyncio.gather(*asks))


def most_in_any_window(times: list[float], window: float) -> int:
    return max(sum(start <= t < start + window for t in times) for start in times)


async def test_two_processes_send_40_messages_to_a_group_at_most_20_in_any_window(
    two: Pair,
) -> None:
    limits = TelegramLimits(group_limit=20, group_period=1.0, group_slack=0.0, bot_rate=FAST_BOT)
    a, b = two(limits)
    times = await spread(a, b, [GROUP] * 40)
    assert most_in_any_window(times, limits.group_period - 0.02) <= 20
    assert times[-1] - times[0] >= limits.group_period - 0.05  # the second 20 waited
    assert a.waited > 0
    assert b.waited > 0


async def test_a_private_chat_gets_its_burst_then_one_a_second_from_both(two: Pair) -> None:
    a, b = two(TelegramLimits(chat_rate=1.0, chat_burst=3, bot_rate=FAST_BOT))
    times = await spread(a, b, [4242] * 5)
    offsets = [t - times[0] for t in times]
    assert offsets == pytest.approx([0, 0, 0, 1, 2], abs=0.08)


async def test_the_bot_wide_rate_holds_across_two_processes(two: Pair) -> None:
    a, b = two(TelegramLimits(bot_rate=20.0))
    chats: list[int | None] = list(range(1, 41))  # 40 chats, each far from its own limit
    times = await spread(a, b, chats)
    assert times[-1] - times[0] >= 39 / 20 - 0.1  # evenly spaced, not 2 x 20 a second
    assert most_in_any_window(times, 1.0 - 0.02) <= 21


async def test_a_429_seen_by_one_process_holds_the_chat_in_the_other(two: Pair) -> None:
    a, b = two(TelegramLimits(bot_rate=FAST_BOT))
    await a.wait(7)
    await a.hold(7, 1.0)
    started = time.monotonic()
    await b.wait(8)  # other chats go on
    assert time.monotonic() - started < 0.5  # far from the held second, on a loaded host too
    await b.wait(7)
    assert time.monotonic() - started >= 1.0 - 0.03


async def test_a_429_without_a_chat_holds_the_whole_bot_everywhere(two: Pair) -> None:
    a, b = two(TelegramLimits(bot_rate=FAST_BOT))
    await a.hold(None, 0.5)
    started = time.monotonic()
    await b.wait(99)
    assert time.monotonic() - started >= 0.5 - 0.03


async def test_a_chats_messages_keep_their_order(two: Pair) -> None:
    a, _ = two(TelegramLimits(chat_rate=20.0, chat_burst=3, bot_rate=FAST_BOT))
    order: list[int] = []

    async def one(n: int) -> None:
        await a.wait(5)
        order.append(n)

    await asyncio.gather(*(one(n) for n in range(12)))
    assert order == list(range(12))


class LateWake(SharedPacer):
    """Redis's bookings as a loaded host returns them: the second message booked a little
    ahead (its wait measured from a reply the host handled late), the third at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waits = iter([0.0, 0.02, 0.0])

    async def reserve(self, chat_id: int | str | None) -> float:
        await super().reserve(chat_id)
        return next(self.waits)


async def test_a_message_booked_at_once_does_not_overtake_one_booked_ahead(
    app_redis: str, bot_id: int
) -> None:
    pacer = LateWake.from_url(app_redis, bot_id, TelegramLimits(bot_rate=FAST_BOT))
    order: list[int] = []

    async def one(n: int) -> None:
        await pacer.wait(5)
        order.append(n)

    try:
        await asyncio.gather(*(one(n) for n in range(3)))
    finally:
        await pacer.close()
    assert order == [0, 1, 2]
    assert not pacer._wakes  # the chat is forgotten once its last waiter woke


async def test_every_key_is_hash_tagged_with_the_bot_and_expires(
    two: Pair, app_redis: str, bot_id: int
) -> None:
    a, _ = two(TelegramLimits(group_period=1.0, group_slack=0.0))
    await a.wait(7)
    await a.wait(GROUP)
    await a.hold(7, 1.0)
    redis = Redis.from_url(app_redis)
    try:
        keys = sorted(k.decode() for k in await redis.keys("ob:pace:*"))
        ttls = [await redis.pttl(k) for k in keys]
    finally:
        await redis.aclose()
    tag = f"{{{bot_id}}}"
    assert keys == [
        f"ob:pace:{tag}:bot",
        f"ob:pace:{tag}:c:7",
        f"ob:pace:{tag}:g:{GROUP}",
        f"ob:pace:{tag}:hold:7",
    ]
    assert all(0 < ttl <= 3000 for ttl in ttls), dict(zip(keys, ttls, strict=True))


async def test_without_redis_a_message_is_not_sent_but_tried_again_later(bot_id: int) -> None:
    pacer = SharedPacer.from_url("redis://127.0.0.1:1/0", bot_id)  # nothing listens there
    try:
        with pytest.raises(PacingUnavailable) as raised:
            await pacer.wait(7)
        assert is_outage(raised.value)  # the dispatcher's TryLater (bot/deliver.py)
        with pytest.raises(PacingUnavailable):
            await pacer.hold(7, 1.0)
    finally:
        await pacer.close()
