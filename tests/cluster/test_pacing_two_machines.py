"""Telegram's pacing across machines: two ``onboard run --webhook --workers 2`` supervisors
(two machines, four workers) share one Redis. Customers asking for a person at once, half on
each machine, post their tickets' cards into the agents' group from all four workers; one
customer's updates reach both machines. Whichever worker sends, the group's and the chat's
messages arrive at the Bot API no faster than the one shared limit allows (TELEGRAM_GROUP_LIMIT
in TELEGRAM_GROUP_WINDOW_SECONDS and TELEGRAM_CHAT_RATE, scaled so that the test takes seconds;
each worker pacing alone would let four times as many cards through)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.chaos.harness import (
    NEEDS_REDIS_SERVER,
    WEBHOOK_PATH,
    Bot,
    ChaosBotApi,
    Telegram,
    bot_env,
    stage,
)

pytestmark = [pytest.mark.cluster, NEEDS_REDIS_SERVER]
CUSTOMER = 777_001
GROUP = -1001989718457
ASKING = 12  # customers asking for a person: one card each in the group
GROUP_LIMIT, WINDOW = 4, 2.0  # at most 4 cards in any 2 s
RATE = 4.0  # messages a second to one private chat, both machines together
BURST = 3  # TelegramLimits.chat_burst: a turn's replies leave together
UPDATES = 16
ARRIVAL_JITTER = 0.15  # a request may reach the API later than its booked time


async def test_two_machines_share_one_chats_pace(tmp_path: Path) -> None:
    async with stage(tmp_path) as on:
        api = on.api
        api.supergroup(GROUP, title="Support", forum=False)
        machines = []
        for name in "AB":
            env = bot_env(api, on.redis, on.database_url, on.mailbox.port)
            env.update(
                TELEGRAM_RATE_LIMITS="true",
                TELEGRAM_CHAT_RATE=str(RATE),
                TELEGRAM_GROUP_LIMIT=str(GROUP_LIMIT),
                TELEGRAM_GROUP_WINDOW_SECONDS=str(WINDOW),
                SUPPORT_CHAT_ID=str(GROUP),
                SUPPORT_TOPICS="off",
            )
            home = tmp_path / f"machine-{name}"
            home.mkdir()
            machines.append(Bot(env, home))
        try:
            for machine in machines:
                await machine.start(api)
            doors = [
                Telegram(api, f"http://127.0.0.1:{m.port}{WEBHOOK_PATH}", on.session)
                for m in machines
            ]
            updates = [api.command(CUSTOMER, "/start") for _ in range(UPDATES)]
            updates += [api.command(CUSTOMER + 1 + n, "/human") for n in range(ASKING)]
            await asyncio.gather(*(doors[n % 2].deliver(u) for n, u in enumerate(updates)))
            await _quiet(api, seconds=2.0)
        finally:
            for machine in machines:
                await machine.stop()
    cards = sorted(c.time for c in api.calls_to("sendMessage") if _to(c.params, GROUP))
    times = sorted(c.time for c in api.calls_to("sendMessage") if _to(c.params, CUSTOMER))
    print(f"{len(cards)} cards to the agents' group in {cards[-1] - cards[0]:.1f} s")
    print(f"{len(times)} messages to one chat from two machines in {times[-1] - times[0]:.1f} s")
    assert [d.statuses["200"] for d in doors] == [(UPDATES + ASKING) // 2] * 2  # both took half
    assert len(cards) == ASKING
    assert max(sum(s <= t < s + WINDOW for t in cards) for s in cards) <= GROUP_LIMIT
    assert cards[-1] - cards[0] >= 2 * WINDOW  # three windows' worth: spread, not bunched
    assert len(times) >= UPDATES  # every /start was answered
    for i, early in enumerate(times):  # the shared GCRA: burst, then RATE a second
        for j in range(i + BURST, len(times)):
            assert times[j] - early >= (j - i - BURST + 1) / RATE - ARRIVAL_JITTER, (i, j)


def _to(params: dict[str, object], chat: int) -> bool:
    return str(params.get("chat_id")) == str(chat)


async def _quiet(api: ChaosBotApi, seconds: float, limit: float = 60.0) -> None:
    """Until the bot has sent nothing for ``seconds`` (what is owed has gone out)."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline:
        count = len(api.calls)
        if count == seen:
            return
        seen = count
        await asyncio.sleep(seconds)
