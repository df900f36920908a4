"""The outgoing half of Telegram: Bot API calls with Telegram's pacing, replies rendered.

Used by the dispatcher (what committed turns owe) and the agents' group; never on the
webhook's path, which answers as soon as a turn is committed. Plain-JSON calls go through our
own small client (bot/channels/telegram/client.py: one JSON body, python-telegram-bot's error
classes); uploads, and every call when no client is given, through python-telegram-bot's public
``Bot.do_api_request``. Both return the raw JSON result: nothing we send reads the echoed
``Message``, so it is not parsed into python-telegram-bot objects. (``do_api_request`` suggests
the typed method when one exists; those parse every echoed ``Message``, 30–40 µs a reply on
this path, so the suggestion is silenced for this module's calls.)
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Iterable
from typing import Any

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.client import BotApiClient, plain
from bot.channels.telegram.ratelimit import MESSAGE_METHODS, Pacer
from bot.channels.telegram.render import TelegramMessage, TelegramRenderer
from dialogs.events import TELEGRAM
from dialogs.replies import Document, Reply

log = logging.getLogger(__name__)
warnings.filterwarnings("ignore", r"Please use 'Bot\.", PTBUserWarning, __name__)

SEND_ATTEMPTS = 3
RETRY_AFTER_ATTEMPTS = 30
"""A 429 is waited out this many times in a row before the call fails (Telegram always says
how long to wait, so this only guards against a server that never stops saying 429)."""


class TelegramSender:
    """Telegram as a :class:`bot.channels.base.Channel`: replies rendered, paced and sent."""

    name = TELEGRAM

    def __init__(
        self,
        bot: Bot,
        renderer: TelegramRenderer,
        *,
        limiter: Pacer | None = None,
        client: BotApiClient | None = None,
    ) -> None:
        self.bot = bot
        self.renderer = renderer
        self.limiter = limiter  # None: no outgoing limits (the benchmark's in-process API)
        self.client = client  # the plain-JSON calls (None: every call through ``bot``)
        self.bot_id = int(bot.token.split(":", 1)[0])

    def passing(self, exc: BaseException) -> bool:
        """The network or Telegram's 5xx: sent again later."""
        return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)

    def final(self, exc: BaseException) -> bool:
        """A 400: Telegram refuses this message, sending it again cannot help."""
        return isinstance(exc, BadRequest)

    async def send(self, chat_id: int, replies: Iterable[Reply], locale: str) -> None:
        """Each reply as one message, in order. A chat that blocked the bot is skipped; a
        refused message (400) raises :class:`telegram.error.BadRequest`; a network failure
        raises :class:`telegram.error.NetworkError` (the dispatcher tries again later)."""
        for reply in replies:
            outgoing = self.renderer.reply(reply, locale, private=chat_id > 0)  # users: > 0
            if reply.document is not None:
                await self._send_document(chat_id, reply.document, outgoing)
            else:
                await self._send_one(chat_id, outgoing)

    async def _send_document(
        self, chat_id: int, document: Document, caption: TelegramMessage
    ) -> None:
        upload = InputFile(document.content.encode(), filename=document.filename)
        try:
            await self.call(
                "sendDocument",
                chat_id=chat_id,
                document=upload,
                caption=caption.text,
                parse_mode="HTML",
            )
        except Forbidden:
            log.info("chat %s blocked the bot; document dropped", chat_id)

    async def _send_one(self, chat_id: int, message: TelegramMessage) -> None:
        kwargs = message.kwargs()
        for _ in range(SEND_ATTEMPTS):
            try:
                await self.call("sendMessage", chat_id=chat_id, **kwargs)
                return
            except BadRequest as exc:
                if not message.links or "url" not in str(exc).lower():
                    raise
                kwargs = message.without_link_buttons()
            except Forbidden:
                log.info("chat %s blocked the bot; reply dropped", chat_id)
                return
        log.error("gave up sending to chat %s after %s attempts", chat_id, SEND_ATTEMPTS)

    async def call(self, endpoint: str, **params: object) -> Any:
        """One Bot API call, returning its JSON result.

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
                if self.client is not None and plain(data):
                    return await self.client.call(endpoint, data)
                return await self.bot.do_api_request(endpoint, api_kwargs=data)
            except RetryAfter as exc:
                attempts += 1
                seconds = retry_seconds(exc.retry_after)
                log.warning("%s to chat %s: 429, retry in %.0f s", endpoint, chat_id, seconds)
                if attempts >= RETRY_AFTER_ATTEMPTS:
                    raise
                if limiter is not None:
                    await limiter.hold(chat_id, seconds)
                else:
                    await asyncio.sleep(seconds)

    async def quietly(self, endpoint: str, **params: object) -> None:
        """A call whose failure changes nothing for the customer (e.g. answering a button
        press, which only stops the client's spinner)."""
        try:
            await self.call(endpoint, **params)
        except (BadRequest, Forbidden, NetworkError) as exc:
            log.info("ignored Bot API error: %s", exc)


def retry_seconds(retry_after: object) -> float:
    total = getattr(retry_after, "total_seconds", None)
    return float(total()) if callable(total) else float(retry_after)  # type: ignore[arg-type]
