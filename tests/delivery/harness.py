"""The bot as in production — real delivery (SMTP / HTTP SMS gateway), the outbox, the cap per
address — against the fake Bot API, with a movable clock and a short retry schedule."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.app import build_app
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from bot.telegram.render import TelegramRenderer
from dialogs.events import ConversationKey
from dialogs.flow import load_flow
from dialogs.i18n import DEFAULT_LOCALES_DIR, Catalogs
from dialogs.replies import Reply
from storage.crm_import import load_crm
from tests.bot.harness import DEMO_CRM, ObservedTransport, RunningBot
from tests.fakebotapi import FakeBotApi


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def locales_with(tmp_path: Path, flows_dir: Path) -> Path:
    """The real catalogs, with the test flows' texts added to the template (the loader checks
    flow texts against it; the lead extracts the real ones)."""
    target = tmp_path / "locales"
    shutil.copytree(DEFAULT_LOCALES_DIR, target)
    texts: set[str] = set()
    for path in flows_dir.glob("*.yaml"):
        texts |= load_flow(path).messages()
    entries = "".join(f'\nmsgid "{text}"\nmsgstr ""\n' for text in sorted(texts))
    with (target / "messages.pot").open("a", encoding="utf-8") as pot:
        pot.write(entries)
    return target


@asynccontextmanager
async def delivering_bot(
    settings: Settings, clock: Clock, *, flows_dir: Path | None = None, tmp_path: Path | None = None
) -> AsyncIterator[RunningBot]:
    async with FakeBotApi() as api:
        extra: dict[str, Any] = {}
        if flows_dir is not None and tmp_path is not None:
            extra = {"flows_dir": flows_dir, "locales_dir": locales_with(tmp_path, flows_dir)}
        app = await build_app(settings, clock=clock, **extra)
        app.effects.outbox.retry_delays = (0.01, 0.01)
        await load_crm(app.db, DEMO_CRM)
        bot = Bot(
            api.token,
            base_url=f"{api.base_url}/bot",
            base_file_url=f"{api.base_url}/file/bot",
            request=HTTPXRequest(connection_pool_size=16),
        )
        transport = ObservedTransport(bot, app.engine, TelegramRenderer(app.catalogs), app.effects)

        async def notify(key: ConversationKey, replies: list[Reply], locale: str) -> None:
            await transport.send(key.chat_id, replies, locale)

        app.effects.outbox.notify = notify
        stop = asyncio.Event()
        async with bot:
            poller = asyncio.create_task(transport.poll(stop, long_poll_seconds=1))
            try:
                yield RunningBot(api, app, transport, DevelopmentDelivery(Catalogs()))
            finally:
                stop.set()
                poller.cancel()
                with suppress(asyncio.CancelledError):
                    await poller
                await app.close()
