"""Scenario tests that read like a chat, through the real Telegram transport.

The bot runs exactly as in production (python-telegram-bot client, long polling over HTTP)
against :class:`tests.fakebotapi.FakeBotApi` on loopback. A customer pushes updates the way
Telegram would and reads what the bot sent back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram.request import HTTPXRequest

from bot.app import App, TelegramSetup, build_app
from bot.channels.telegram.client import AiohttpPoster, BotApiClient
from bot.channels.telegram.metered import metered
from bot.channels.telegram.parse import event_from_update
from bot.channels.telegram.ratelimit import OutgoingLimiter
from bot.channels.telegram.transport import TelegramTransport
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from dialogs.i18n import Catalogs
from dialogs.ports import Clock
from storage.crm_import import load_crm
from tests.fakebotapi import FakeBotApi

DEMO_CRM = __import__("pathlib").Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"


class Observer:
    """Signals when each update has been fully handled: applied, and what it owed delivered
    by the dispatcher (test instrumentation around the transport's ``process``)."""

    def __init__(self, transport: TelegramTransport) -> None:
        self.transport = transport
        self.done: dict[int, asyncio.Event] = {}
        self._process = transport.process
        transport.process = self.process  # type: ignore[method-assign]

    def expect(self, update_id: int) -> asyncio.Event:
        return self.done.setdefault(update_id, asyncio.Event())

    async def process(self, update: Update) -> None:
        try:
            await self._process(update)
            event = event_from_update(update, self.transport.bot_id)
            if event is not None:
                await self.transport.dispatcher.delivered(event.key)
        finally:
            self.expect(update.update_id).set()


@dataclass
class RunningBot:
    api: FakeBotApi
    app: App
    transport: TelegramTransport
    delivery: DevelopmentDelivery
    observer: Observer
    customers: list[Customer] = field(default_factory=list)

    def expect(self, update_id: int) -> asyncio.Event:
        return self.observer.expect(update_id)

    def customer(self, user_id: int = 4242, language_code: str = "en") -> Customer:
        return Customer(self, user_id, language_code)


@asynccontextmanager
async def running_bot(
    settings: Settings,
    *,
    clock: Clock | None = None,
    poll: bool = True,
    real_delivery: bool = False,
    retry_delays: tuple[float, ...] | None = None,
    limiter: OutgoingLimiter | None = None,
    local_crm: bool | None = None,
    **build_options: Any,
) -> AsyncIterator[RunningBot]:
    """The bot as deployed. Mails and SMS go to a recording development sink, or with
    ``real_delivery`` to what ``settings`` configure (SMTP, SMS gateway); ``build_options``
    go to :func:`bot.app.build_app` (e.g. ``flows_dir``, ``locales_dir``). The demo CRM is
    loaded into the local copy unless ``local_crm`` is False; by default it is not when
    ``settings`` point at a live CRM (tests/crm: the CRM on loopback holds the records)."""
    async with FakeBotApi() as api:
        delivery = DevelopmentDelivery(Catalogs(), echo=lambda _line: None)
        if not real_delivery:
            build_options["delivery"] = delivery
        if clock is not None:
            build_options["clock"] = clock
        if retry_delays is not None:
            build_options["retry_delays"] = retry_delays
        bot = Bot(
            api.token,
            base_url=f"{api.base_url}/bot",
            base_file_url=f"{api.base_url}/file/bot",
            request=metered(HTTPXRequest(connection_pool_size=16)),  # as `onboard run`
            get_updates_request=metered(HTTPXRequest()),
        )
        client = BotApiClient(AiohttpPoster(api.base_url, api.token))  # as `onboard run`
        channel = TelegramSetup(bot, limiter, client)
        app = await build_app(settings, channel=channel, **build_options)
        if local_crm if local_crm is not None else not settings.crm_lookup_url:
            await load_crm(app.db, DEMO_CRM)
        transport: TelegramTransport = app.transport
        observer = Observer(transport)
        stop = asyncio.Event()
        async with bot:
            poller = None
            if poll:
                poller = asyncio.create_task(transport.poll(stop, long_poll_seconds=1))
            try:
                yield RunningBot(api, app, transport, delivery, observer)
            finally:
                stop.set()
                if poller is not None:
                    poller.cancel()
                    with suppress(asyncio.CancelledError):
                        await poller
                await app.close()
                await client.close()


@dataclass
class Customer:
    """A person in a private chat with the bot."""

    bot: RunningBot
    user_id: int
    language_code: str
    seen: int = 0
    keyboard: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api(self) -> FakeBotApi:
        return self.bot.api

    async def send(self, text: str) -> list[str]:
        if text.startswith("/"):
            command, _, payload = text.partition(" ")
            update = self.api.command(
                self.user_id, command, payload or None, language_code=self.language_code
            )
        else:
            update = self.api.text(self.user_id, text, language_code=self.language_code)
        return await self.deliver(update)

    async def press(self, label: str) -> list[str]:
        for button in self.keyboard:
            if button.get("text") == label and "callback_data" in button:
                update = self.api.callback(
                    self.user_id, button["callback_data"], language_code=self.language_code
                )
                return await self.deliver(update)
        labels = [b.get("text") for b in self.keyboard]
        raise AssertionError(f"no button {label!r}; the keyboard has {labels}")

    async def share_contact(self, phone: str, *, own: bool = True) -> list[str]:
        contact_user = self.user_id if own else self.user_id + 1
        update = self.api.contact(
            self.user_id, phone, contact_user_id=contact_user, language_code=self.language_code
        )
        return await self.deliver(update)

    async def deliver(self, update: dict[str, Any]) -> list[str]:
        done = self.bot.expect(update["update_id"])
        self.api.push(update)
        await asyncio.wait_for(done.wait(), timeout=10)
        return self.read_new()

    def read_new(self) -> list[str]:
        messages = self.api.sent_messages(self.user_id)
        fresh, self.seen = messages[self.seen :], len(messages)
        for message in fresh:
            markup = message.get("reply_markup") or {}
            if "inline_keyboard" in markup:
                self.keyboard = [b for row in markup["inline_keyboard"] for b in row]
        return [m["text"] for m in fresh]

    def last_markup(self) -> dict[str, Any]:
        messages = self.api.sent_messages(self.user_id)
        return dict(messages[-1].get("reply_markup") or {})

    def link(self) -> str:
        """The URL of the first link button: a plain ``url`` or a Mini App (``web_app``)."""
        for button in self.keyboard:
            if "url" in button:
                return str(button["url"])
            if "web_app" in button:
                return str(button["web_app"]["url"])
        raise AssertionError(f"no link button in {self.keyboard}")
