"""Telegram's pacing across machines: two ``onboard run --webhook --workers 2`` supervisors
(two machines, four workers) share one Redis, and one customer's updates reach both. Whichever
worker sends, the chat's messages arrive at the Bot API no faster than the one shared limit
allows (TELEGRAM_CHAT_RATE, raised here so that the test takes seconds; each machine pacing
alone would let twice as many through)."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import aiohttp
import pytest

from tests.chaos.harness import (
    TOKEN,
    WEBHOOK_PATH,
    Bot,
    ChaosBotApi,
    RedisServer,
    Telegram,
    bot_env,
    postgres_database,
)
from tests.delivery.servers import Mailbox, smtp_server

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        shutil.which("redis-server") is None,
        reason="redis-server is not on PATH: the test starts (and stops) a Redis of its own",
    ),
]
CUSTOMER = 777_001
RATE = 4.0  # messages a second to one private chat, both machines together
BURST = 3  # Limits.chat_burst: a turn's replies leave together
UPDATES = 16
ARRIVAL_JITTER = 0.15  # a request may reach the API later than its booked time


async def test_two_machines_share_one_chats_pace(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    await redis.start()
    try:
        async with (
            postgres_database() as (_, database_url),
            ChaosBotApi(token=TOKEN) as api,
            smtp_server(Mailbox()) as mailbox,
            aiohttp.ClientSession() as session,
        ):
            machines = []
            for name in "AB":
                env = bot_env(api, redis, database_url, mailbox.port)
                env.update(TELEGRAM_RATE_LIMITS="true", TELEGRAM_CHAT_RATE=str(RATE))
                home = tmp_path / f"machine-{name}"
                home.mkdir()
                machines.append(Bot(env, home))
            try:
                for machine in machines:
                    await machine.start(api)
                doors = [
                    Telegram(api, f"http://127.0.0.1:{m.port}{WEBHOOK_PATH}", session)
                    for m in machines
                ]
                updates = [api.command(CUSTOMER, "/start") for _ in range(UPDATES)]
                await asyncio.gather(*(doors[n % 2].deliver(u) for n, u in enumerate(updates)))
                await _quiet(api, seconds=2.0)
            finally:
                for machine in machines:
                    await machine.stop()
    finally:
        await redis.stop()
        shutil.rmtree(tmp_path / "redis", ignore_errors=True)
    times = sorted(c.time for c in api.calls_to("sendMessage") if _to_customer(c.params))
    print(f"{len(times)} messages to one chat from two machines in {times[-1] - times[0]:.1f} s")
    assert len(times) >= UPDATES  # every /start was answered
    assert [d.statuses["200"] for d in doors] == [UPDATES // 2] * 2  # both machines took some
    for i, early in enumerate(times):  # the shared GCRA: burst, then RATE a second
        for j in range(i + BURST, len(times)):
            assert times[j] - early >= (j - i - BURST + 1) / RATE - ARRIVAL_JITTER, (i, j)


def _to_customer(params: dict[str, object]) -> bool:
    return str(params.get("chat_id")) == str(CUSTOMER)


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
