"""The cap on sends per address, shared across conversations: one contract, three backends
(Redis, SQLite, PostgreSQL); and through the bot, two conversations to one address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialogs import durations
from dialogs.ports import SendLimiter
from dialogs.steps import code as code_step
from storage.db import create_engine, migrate
from storage.limits import RedisSendLimiter, SqlSendLimiter
from tests.bot.test_bg_flow_telegram import t
from tests.conftest import make_settings
from tests.delivery.harness import Clock, delivering_bot
from tests.delivery.servers import Mailbox, smtp_server

T0 = 1_800_000_000.0


@pytest.fixture(params=["redis", "sqlite", "postgres"])
async def limiter(
    request: pytest.FixtureRequest, tmp_path: Path, app_redis: str, pg_database: str
) -> AsyncIterator[SendLimiter]:
    if request.param == "redis":
        redis_limiter = RedisSendLimiter.from_url(app_redis)
        await redis_limiter.prepare()
        yield redis_limiter
        await redis_limiter.close()
        return
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}"
    else:
        url = pg_database
    engine = create_engine(url)
    await migrate(engine)
    yield SqlSendLimiter(engine)
    await engine.dispose()


async def test_five_sends_per_ten_minutes_then_refused_with_the_wait(
    limiter: SendLimiter,
) -> None:
    for minute in range(5):
        assert await limiter.acquire("a", now=T0 + 60 * minute, limit=5, window=600) == 0
    wait = await limiter.acquire("a", now=T0 + 300, limit=5, window=600)
    assert wait == pytest.approx(300)  # the first send leaves the window at T0 + 600
    assert await limiter.acquire("b", now=T0 + 300, limit=5, window=600) == 0  # per subject
    assert await limiter.acquire("a", now=T0 + 599, limit=5, window=600) > 0
    assert await limiter.acquire("a", now=T0 + 600, limit=5, window=600) == 0


async def test_the_redis_cap_waits_for_a_connection_under_many_concurrent_sends(
    app_redis: str,
) -> None:
    """300 sends at once (the benchmark's 200 customers in flight reached redis-py's default
    limit of 100 connections, and a code was never sent): the pool waits instead."""
    limiter = RedisSendLimiter.from_url(app_redis, max_connections=8)
    try:
        waits = await asyncio.gather(
            *(limiter.acquire(f"s{i}", now=T0, limit=5, window=600) for i in range(300))
        )
    finally:
        await limiter.close()
    assert waits == [0] * 300


async def test_concurrent_senders_never_exceed_the_cap(limiter: SendLimiter) -> None:
    results = await asyncio.gather(
        *(limiter.acquire("busy", now=T0, limit=5, window=600) for _ in range(12))
    )
    assert sum(1 for wait in results if wait == 0) == 5


@pytest.mark.parametrize("store", ["redis", "embedded"])
async def test_sixth_code_to_one_address_is_refused_across_conversations(
    tmp_path: Path, app_redis: str, store: str
) -> None:
    redis_url = app_redis if store == "redis" else None
    clock = Clock()
    async with smtp_server(Mailbox()) as mailbox:
        settings = make_settings(
            tmp_path,
            redis_url=redis_url,
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_security="none",
        )
        async with delivering_bot(settings, clock) as bot:
            alice, mallory = bot.customer(user_id=1), bot.customer(user_id=2)
            for customer in (alice, mallory):
                await customer.send("/start")
                await customer.send("175074752")
            await alice.send("demo@example.com")  # send 1
            for _ in range(3):  # sends 2-4
                clock.now += 60
                await alice.press(t(code_step.RESEND, "en"))
            await mallory.send("demo@example.com")  # send 5, another conversation
            clock.now += 60
            # The 6th in 10 minutes: the cap is taken off the reply's path (the dispatcher's
            # slow lane), the refusal follows the reply.
            assert await alice.press(t(code_step.RESEND, "en")) == [
                t(code_step.RESENT, "en", address="demo@example.com"),
                t(code_step.TOO_MANY, "en", minutes=durations.minutes(6)),
            ]
            assert len(mailbox.mails) == 5
            clock.now = 1_800_000_000.0 + 600  # the first send leaves the window
            assert await alice.press(t(code_step.RESEND, "en")) == [
                t(code_step.RESENT, "en", address="demo@example.com")
            ]
            await bot.app.effects.courier.drain()
            assert len(mailbox.mails) == 6
