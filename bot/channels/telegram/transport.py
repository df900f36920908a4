"""Updates in: Telegram's webhook or long polling → the engine → the dispatcher.

The path of an update: the engine applies it in one transaction that also stores what the turn
owes (replies, effects); the webhook answers 200 right after that commit, and the dispatcher
(bot/dispatch.py) delivers the items through
:class:`~bot.channels.telegram.sender.TelegramSender`, with Telegram's pacing, off this path.
When Redis or the database cannot be reached the update is not applied and not confirmed: the
webhook answers 503 (Telegram delivers it again) and polling keeps its offset; the customer is
not told "error" for an update that will be retried.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.channels.base import hand_over
from bot.channels.telegram.group import group_message
from bot.channels.telegram.parse import event_from_json, event_from_update
from bot.channels.telegram.sender import TelegramSender, retry_seconds
from bot.dispatch import Dispatcher
from bot.support.desk import SupportDesk
from dialogs.engine import Engine
from dialogs.errors import ConflictError
from dialogs.events import Event
from dialogs.i18n import N_, negotiate
from dialogs.replies import Reply, Text
from storage.outage import is_outage

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
GENERIC_ERROR = N_(
    "Sorry, something went wrong on our side. Please try again in a minute; "
    "your earlier answers are kept."
)
PUSH_WAIT_SECONDS = 5.0
"""A web page's signal waits this long for its chat message to leave (then answers anyway)."""


class Unavailable(Exception):
    """Redis or the database could not be reached: the update was not applied."""


class TelegramTransport:
    def __init__(
        self,
        sender: TelegramSender,
        engine: Engine,
        dispatcher: Dispatcher,
        *,
        support: SupportDesk | None = None,
    ) -> None:
        self.sender = sender
        self.bot = sender.bot
        self.engine = engine
        self.dispatcher = dispatcher
        self.support = support
        self.bot_id = sender.bot_id
        self._background: set[asyncio.Task[None]] = set()

    async def process_json(self, data: dict[str, Any]) -> None:
        """The webhook path: straight from Telegram's JSON, no ``Update`` object tree.
        Raises :class:`Unavailable` when the update could not be applied."""
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
        if callback_query_id is not None:  # stops the client's spinner; nothing waits for it
            self._later(
                self.sender.quietly("answerCallbackQuery", callback_query_id=callback_query_id)
            )
        try:
            outcome = await self.engine.handle(event)
        except Exception as exc:
            if is_outage(exc) or isinstance(exc, ConflictError):
                log.warning(
                    "update %s of %s not applied: %s",
                    event.update_id,
                    event.key,
                    type(exc).__name__,
                )
                raise Unavailable(type(exc).__name__) from exc
            log.exception("update %s of %s failed", event.update_id, event.key)
            locale = negotiate(event.language_code)
            self.dispatcher.send_now(event.key, [Reply(Text(GENERIC_ERROR))], locale)
            return
        if outcome.duplicate:
            log.info("update %s of %s already applied", event.update_id, event.key)
            return
        hand_over(self.dispatcher, event.key, outcome)

    def _later(self, call: Any) -> None:
        task = asyncio.get_running_loop().create_task(call)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _support_group(self, data: dict[str, Any]) -> None:
        """Agents' messages in the support group go to the support desk (bot/support)."""
        if self.support is None or self.support.group is None:
            return
        message = group_message(data, self.bot_id)
        if message is not None:
            try:
                await self.support.on_group_message(message)
            except Exception as exc:
                if is_outage(exc):
                    raise Unavailable(type(exc).__name__) from exc
                log.exception("support group message %s failed", message.message_id)

    async def push(self, event: Event) -> None:
        """Apply an event that did not come from Telegram (a signal from a web page); the
        page answers once the chat message left (or after :data:`PUSH_WAIT_SECONDS`)."""
        outcome = await self.engine.handle(event)
        self.dispatcher.submit(outcome.items, lead=outcome.lead)
        try:
            await asyncio.wait_for(self.dispatcher.delivered(event.key), PUSH_WAIT_SECONDS)
        except TimeoutError:
            log.info("the chat message for %s is still on its way", event.key)

    async def process_batch(self, updates: Iterable[Update]) -> int | None:
        """Different chats in parallel, one chat's updates in order. Returns the id of the
        first update that could not be applied (the offset to fetch again from), or None."""
        by_chat: dict[int, list[Update]] = defaultdict(list)
        for update in updates:
            chat = update.effective_chat
            by_chat[chat.id if chat else 0].append(update)

        async def run(chat_updates: list[Update]) -> int | None:
            for update in chat_updates:
                try:
                    await self.process(update)
                except Unavailable:
                    return update.update_id  # the rest of this chat waits for it
                except Exception:
                    log.exception("update %s failed", update.update_id)
            return None

        failed = [u for u in await asyncio.gather(*(run(c) for c in by_chat.values())) if u]
        return min(failed) if failed else None

    async def poll(self, stop: asyncio.Event, long_poll_seconds: int = 25) -> None:
        """Long polling until ``stop`` (which also cancels the poll under way). An update is
        confirmed (the next offset) only once applied; nothing here ends the process."""
        await self.bot.delete_webhook()
        offset: int | None = None
        stopping = asyncio.ensure_future(stop.wait())
        fetch: asyncio.Future[Any] | None = None
        try:
            while not stop.is_set():
                fetch = asyncio.ensure_future(
                    self.bot.get_updates(
                        offset=offset, timeout=long_poll_seconds, allowed_updates=ALLOWED_UPDATES
                    )
                )
                await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():
                    return  # stopping: the poll under way is cancelled below
                offset = await self._fetched(fetch, offset)
        finally:
            for task in (stopping, fetch):
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)

    async def _fetched(self, fetch: asyncio.Future[Any], offset: int | None) -> int | None:
        """Apply what one getUpdates returned; the next offset."""
        try:
            updates = fetch.result()
        except RetryAfter as exc:
            await asyncio.sleep(retry_seconds(exc.retry_after))
            return offset
        except (TimedOut, NetworkError) as exc:
            log.warning("polling: %s; retrying", exc)
            await asyncio.sleep(1)
            return offset
        except Exception:
            log.exception("polling failed; retrying")
            await asyncio.sleep(1)
            return offset
        if not updates:
            return offset
        failed = await self.process_batch(updates)
        if failed is None:
            return int(updates[-1].update_id) + 1
        await asyncio.sleep(1)  # an outage: fetched again, the ones applied meanwhile skipped
        return failed

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
            try:
                await self.process_json(data)
            except Unavailable:
                return web.Response(status=503, text="try again", headers={"Retry-After": "1"})
            return web.Response(text="ok")

        return handle

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
