"""Updates in, Bot API calls out. Routing, state and words belong to the engine."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.effects import EffectRunner
from bot.support.telegram import TelegramGroup, group_message
from bot.telegram.parse import event_from_json, event_from_update
from bot.telegram.ratelimit import MESSAGE_METHODS, OutgoingLimiter
from bot.telegram.render import Outgoing, TelegramRenderer
from dialogs.engine import Engine
from dialogs.events import Event
from dialogs.i18n import N_, negotiate
from dialogs.replies import Reply, Text

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
GENERIC_ERROR = N_(
    "Sorry, something went wrong on our side. Please try again in a minute; "
    "your earlier answers are kept."
)
SEND_ATTEMPTS = 3
RETRY_AFTER_ATTEMPTS = 30
"""A 429 is waited out this many times in a row before the call fails (Telegram always says
how long to wait, so this only guards against a server that never stops saying 429)."""


class TelegramTransport:
    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        renderer: TelegramRenderer,
        effects: EffectRunner,
        *,
        limiter: OutgoingLimiter | None = None,
    ) -> None:
        self.bot = bot
        self.limiter = limiter  # None: no outgoing limits (the benchmark's in-process API)
        self.engine = engine
        self.renderer = renderer
        self.effects = effects
        self.bot_id = int(bot.token.split(":", 1)[0])
        support = effects.support
        if support is not None and support.chat_id is not None:
            support.channel = TelegramGroup(self, support.chat_id, support.topics)

    async def process_json(self, data: dict[str, Any]) -> None:
        """The webhook path: straight from Telegram's JSON, no ``Update`` object tree."""
        parsed = event_from_json(data, self.bot_id)
        if parsed is not None:
            await self._apply(*parsed)
        else:
            await self._support_group(data)

    async def process(self, update: Update) -> None:
        event = event_from_update(update, self.bot_id)
        if event is None:
            await self._support_group(update.to_dict())
            return
        query = update.callback_query
        await self._apply(event, query.id if query is not None else None)

    async def _apply(self, event: Event, callback_query_id: str | None) -> None:
        if callback_query_id is not None:
            await self._quietly(
                self._call("answerCallbackQuery", callback_query_id=callback_query_id)
            )
        try:
            outcome = await self.engine.handle(event)
        except Exception:
            log.exception("update %s of %s failed", event.update_id, event.key)
            await self.send(
                event.key.chat_id, [Reply(Text(GENERIC_ERROR))], negotiate(event.language_code)
            )
            return
        if outcome.duplicate:
            log.info("update %s of %s already applied", event.update_id, event.key)
            return
        notices = await self.effects.run(outcome.effects)
        await self.send(event.key.chat_id, [*outcome.replies, *notices], outcome.locale)

    async def _support_group(self, data: dict[str, Any]) -> None:
        """Agents' messages in the support group go to the support desk (bot/support)."""
        support = self.effects.support
        if support is None or support.channel is None:
            return
        message = group_message(data, self.bot_id)
        if message is not None:
            try:
                await support.on_group_message(message)
            except Exception:
                log.exception("support group message %s failed", message.message_id)

    async def push(self, event: Event) -> None:
        """Apply an event that did not come from Telegram (a signal from a web page) and send
        the replies to the customer's chat."""
        outcome = await self.engine.handle(event)
        notices = await self.effects.run(outcome.effects)
        await self.send(event.key.chat_id, [*outcome.replies, *notices], outcome.locale)

    async def send(self, chat_id: int, replies: Iterable[Reply], locale: str) -> None:
        for reply in replies:
            outgoing = self.renderer.reply(reply, locale, private=chat_id > 0)  # users: > 0
            await self._send_one(chat_id, outgoing)

    async def _send_one(self, chat_id: int, message: Outgoing) -> None:
        kwargs = message.kwargs()
        for _ in range(SEND_ATTEMPTS):
            try:
                await self._call("sendMessage", chat_id=chat_id, **kwargs)
                return
            except BadRequest as exc:
                if not message.links or "url" not in str(exc).lower():
                    raise
                kwargs = message.without_link_buttons()
            except Forbidden:
                log.info("chat %s blocked the bot; reply dropped", chat_id)
                return
        log.error("gave up sending to chat %s after %s attempts", chat_id, SEND_ATTEMPTS)

    async def _call(self, endpoint: str, **params: object) -> Any:
        """A Bot API call through the bot's own request object (same errors, retries and
        timeouts as ``Bot.send_message``), returning the raw JSON result: nothing we send reads
        the echoed ``Message``, so it is not parsed into python-telegram-bot objects.

        Calls that post into a chat wait for their slot in the outgoing limits first; a 429 is
        waited out (``retry_after``, the chat's queue held too) and the call made again, so a
        limited message is late, never lost."""
        data = {name: value for name, value in params.items() if value is not None}
        chat = data.get("chat_id")
        chat_id = chat if isinstance(chat, int | str) else None
        limiter = self.limiter if endpoint.lower() in MESSAGE_METHODS else None
        attempts = 0
        while True:
            if limiter is not None:
                await limiter.wait(chat_id)
            try:
                return await self.bot._post(endpoint, data)
            except RetryAfter as exc:
                attempts += 1
                seconds = _seconds(exc.retry_after)
                log.warning("%s to chat %s: 429, retry in %.0f s", endpoint, chat_id, seconds)
                if attempts >= RETRY_AFTER_ATTEMPTS:
                    raise
                if limiter is not None:
                    limiter.retry_after(chat_id, seconds)
                else:
                    await asyncio.sleep(seconds)

    async def _quietly(self, call: Any) -> None:
        try:
            await call
        except (BadRequest, NetworkError) as exc:
            log.info("ignored Bot API error: %s", exc)

    async def process_batch(self, updates: Iterable[Update]) -> None:
        """Different chats in parallel, one chat's updates in order."""
        by_chat: dict[int, list[Update]] = defaultdict(list)
        for update in updates:
            chat = update.effective_chat
            by_chat[chat.id if chat else 0].append(update)

        async def run(chat_updates: list[Update]) -> None:
            for update in chat_updates:
                await self.process(update)

        await asyncio.gather(*(run(chat_updates) for chat_updates in by_chat.values()))

    async def poll(self, stop: asyncio.Event, long_poll_seconds: int = 25) -> None:
        await self.bot.delete_webhook()
        offset: int | None = None
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=long_poll_seconds, allowed_updates=ALLOWED_UPDATES
                )
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except (TimedOut, NetworkError) as exc:
                log.warning("polling: %s; retrying", exc)
                await asyncio.sleep(1)
                continue
            if updates:
                offset = updates[-1].update_id + 1
                await self.process_batch(updates)

    def webhook_handler(self, secret: str) -> Any:
        expected = secret.encode()

        async def handle(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not hmac.compare_digest(given, expected):
                return web.Response(status=401, text="unauthorized")
            try:
                data = await request.json()
            except ValueError:
                return web.Response(status=400, text="bad json")
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                return web.Response(status=400, text="expected a Telegram Update object")
            await self.process_json(data)
            return web.Response(text="ok")

        return handle


def _seconds(retry_after: object) -> float:
    total = getattr(retry_after, "total_seconds", None)
    return float(total()) if callable(total) else float(retry_after)  # type: ignore[arg-type]
