"""The dispatcher's items, delivered through a channel and the effect runner.

A channel gives a way to send replies to a chat and says which of its failures pass (the
network, a server error: tried again) and which are final (a message the API refuses: logged
and dropped, never retried in a loop). An outage of Redis or the database is always passing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.dispatch import TryLater
from bot.effects import EffectRunner
from dialogs.owed import OwedItem
from dialogs.replies import Reply
from storage.outage import is_outage

log = logging.getLogger(__name__)

SendReplies = Callable[[int, Sequence[Reply], str], Awaitable[None]]
Classify = Callable[[BaseException], bool]


def _never(_exc: BaseException) -> bool:
    return False


class ChatDeliverer:
    """:class:`bot.dispatch.Deliverer` for one channel."""

    def __init__(
        self,
        send: SendReplies,
        effects: EffectRunner,
        *,
        passing: Classify = _never,
        final: Classify = _never,
    ) -> None:
        self.send = send
        self.effects = effects
        self.passing = passing
        self.final = final

    async def reply(self, item: OwedItem, replies: Sequence[Reply]) -> None:
        try:
            await self.send(item.key.chat_id, replies, item.locale)
        except Exception as exc:
            if is_outage(exc) or self.passing(exc):
                raise TryLater(type(exc).__name__) from exc
            if self.final(exc):  # e.g. a 400: sending it again cannot help
                log.warning("a reply to %s was refused (%s); dropped", item.key, type(exc).__name__)
                return
            raise

    async def effect(self, item: OwedItem) -> list[Reply]:
        try:
            return await self.effects.run_one(item.what, ref=item.id)
        except Exception as exc:
            if is_outage(exc) or self.passing(exc):
                raise TryLater(type(exc).__name__) from exc
            raise


class RoutedDeliverer:
    """One dispatcher for several channels (Telegram and WhatsApp in one process): each item
    goes to the deliverer of its conversation's channel (``ConversationKey.channel``); a
    channel this process does not serve to ``default``."""

    def __init__(self, by_channel: dict[str, ChatDeliverer], default: ChatDeliverer) -> None:
        self.by_channel = by_channel
        self.default = default

    def _of(self, item: OwedItem) -> ChatDeliverer:
        return self.by_channel.get(item.key.channel, self.default)

    async def reply(self, item: OwedItem, replies: Sequence[Reply]) -> None:
        await self._of(item).reply(item, replies)

    async def effect(self, item: OwedItem) -> list[Reply]:
        return await self._of(item).effect(item)
