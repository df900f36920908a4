"""Each Telegram update is applied exactly once: redelivered updates, racing workers, and a
webhook that only Telegram (knowing the secret) may call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from telegram import Bot

from bot.app import App, TelegramSetup, build_app
from bot.config import Settings
from bot.web.server import create_web_app
from dialogs.events import ConversationKey
from dialogs.state import ConversationState
from tests.bot.harness import RunningBot, running_bot
from tests.conftest import STORES, make_settings
from tests.fakebotapi import FakeBotApi

SECRET = "s3cret-webhook-token"


def settings_for(store: str, tmp_path: Path, redis_url: str) -> Settings:
    return make_settings(tmp_path, redis_url=redis_url if store == "redis" else None)


async def state_of(bot_app: App, key: ConversationKey) -> tuple[ConversationState, int]:
    snapshot = await bot_app.store.begin(key, None)
    return ConversationState.decode(snapshot.data), snapshot.version


@asynccontextmanager
async def webhook_url(bot: RunningBot) -> AsyncIterator[str]:
    """The bot's webhook served on loopback, as Telegram would call it."""
    hook = ("/hook", bot.transport.webhook_handler(SECRET))
    web_app = create_web_app(bot.app.records, bot.app.catalogs, bot.app.clock, hook)
    async with TestServer(web_app) as server:
        yield str(server.make_url("/hook"))


@pytest.mark.parametrize("store", STORES)
async def test_a_redelivered_update_is_applied_once(
    tmp_path: Path, app_redis: str, store: str
) -> None:
    async with (
        running_bot(settings_for(store, tmp_path, app_redis), poll=False) as bot,
        webhook_url(bot) as url,
    ):
        start = bot.api.command(4242, "/start")
        bad_eik = bot.api.text(4242, "12345")
        for update in (start, bad_eik, bad_eik, start):
            assert await bot.api.post_webhook(url, update, secret_token=SECRET) == 200
        await bot.app.dispatcher.settled()  # the webhook answers once committed
        texts = [m["text"] for m in bot.api.sent_messages(4242)]
        assert len(texts) == 4  # intro, privacy notice, EIK question, then one "invalid EIK"
        key = ConversationKey(bot.transport.bot_id, 4242, 4242)
        state, version = await state_of(bot.app, key)
        assert state.attempts == {"eik": 1}
        assert version == 2


@pytest.mark.parametrize("store", STORES)
async def test_wrong_or_missing_webhook_secret_is_refused(
    tmp_path: Path, app_redis: str, store: str
) -> None:
    async with (
        running_bot(settings_for(store, tmp_path, app_redis), poll=False) as bot,
        webhook_url(bot) as url,
    ):
        update = bot.api.command(4242, "/start")
        assert await bot.api.post_webhook(url, update, secret_token="guess") == 401
        assert await bot.api.post_webhook(url, update) == 401
        assert bot.api.sent_messages(4242) == []
        assert await bot.api.post_webhook(url, update, secret_token=SECRET) == 200
        await bot.app.dispatcher.settled()
        assert len(bot.api.sent_messages(4242)) == 3  # intro, privacy notice, EIK question


@pytest.mark.parametrize("store", STORES)
async def test_two_workers_racing_on_one_chat_lose_nothing(
    tmp_path: Path, app_redis: str, store: str
) -> None:
    """Two worker processes' worth of app (own engine, own connections, one shared store)
    handle interleaved updates of the same chat at the same time."""
    settings = settings_for(store, tmp_path, app_redis)
    async with FakeBotApi() as api:
        bots = [Bot(api.token, base_url=f"{api.base_url}/bot") for _ in range(2)]
        workers = [await build_app(settings, channel=TelegramSetup(b)) for b in bots]
        transports = [w.transport for w in workers]
        try:
            for b in bots:
                await b.initialize()
            await transports[0].process_json(api.command(7, "/start"))
            updates = [api.text(7, f"{n:05d}") for n in range(20)]  # 20 invalid EIKs
            redelivered = updates[:5]
            jobs = [transports[i % 2].process_json(u) for i, u in enumerate(updates + redelivered)]
            await asyncio.gather(*jobs)
            state, version = await state_of(workers[0], ConversationKey(api.bot_id, 7, 7))
            assert state.attempts == {"eik": 20}
            assert version == 21
        finally:
            for b in bots:
                await b.shutdown()
            for w in workers:
                await w.close()
