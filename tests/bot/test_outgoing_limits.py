"""Outgoing rate limits through the real transport and the loopback Bot API: a burst to the
agents' group is spread over time, a 429 is waited out, and nothing is lost or reordered."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.channels.telegram.ratelimit import OutgoingLimiter, TelegramLimits
from dialogs.replies import Reply, Text
from tests.bot.harness import running_bot
from tests.conftest import make_settings

GROUP = -1001234567890
# Telegram's 20 per minute in a group, scaled to 20 per second so the test takes seconds.
SCALED = TelegramLimits(group_limit=20, group_period=1.0, group_slack=0.1)


def texts(prefix: str, count: int) -> list[Reply]:
    return [Reply(Text(f"{prefix} {n}", literal=True)) for n in range(count)]


async def test_a_burst_of_100_messages_to_the_group_is_spread_and_none_is_lost(
    tmp_path: Path,
) -> None:
    limiter = OutgoingLimiter(SCALED)
    async with running_bot(make_settings(tmp_path), poll=False, limiter=limiter) as bot:
        bot.api.fail_next("sendMessage", 429, retry_after=1)  # Telegram pushes back once too
        # Four senders at once (cards, agents' relays, follow-ups), 25 messages each.
        await asyncio.gather(
            *(bot.transport.sender.send(GROUP, texts(f"sender {s}", 25), "en") for s in range(4))
        )
        calls = [c for c in bot.api.calls_to("sendMessage") if c.params["chat_id"] == GROUP]

    delivered = [c for c in calls if c.status == 200]
    assert [c.status for c in calls].count(429) == 1
    assert len(delivered) == 100  # the refused one was sent again, nothing dropped
    for s in range(4):  # each sender's messages arrive in order
        mine = [c.params["text"] for c in delivered if c.params["text"].startswith(f"sender {s} ")]
        assert mine == [f"sender {s} {n}" for n in range(25)]
    times = [c.time for c in delivered]
    for start in times:  # never more than 20 in any window of the (scaled) minute
        assert sum(start <= t < start + SCALED.group_period for t in times) <= 20
    assert times[-1] - times[0] >= 4 * SCALED.group_period - 0.1  # spread, not bunched
    assert limiter.waited > 0


async def test_a_private_chat_is_paced_but_a_turns_replies_leave_together(tmp_path: Path) -> None:
    limiter = OutgoingLimiter(TelegramLimits(chat_rate=5, chat_burst=3))
    async with running_bot(make_settings(tmp_path), poll=False, limiter=limiter) as bot:
        asked = time.monotonic()  # the limiter's clock starts after this (the API's may lag)
        await bot.transport.sender.send(4242, texts("reply", 3), "en")
        first = [c.time for c in bot.api.calls_to("sendMessage")]
        await bot.transport.sender.send(4242, texts("more", 3), "en")
        calls = bot.api.calls_to("sendMessage")
    assert first[-1] - first[0] < 0.15  # a burst of three: no waiting
    later = [c.time for c in calls[3:]]
    assert later[-1] - asked >= 3 / 5 - 0.02  # then 5 a second
    assert [c.params["text"] for c in calls] == [f"reply {n}" for n in range(3)] + [
        f"more {n}" for n in range(3)
    ]
