"""The one interface every messaging app gives the rest of the bot.

Outbound, a :class:`Channel` is what the dispatcher's deliverer (:class:`bot.deliver.ChatDeliverer`,
built by :func:`deliverer`) needs: its ``name`` (``ConversationKey.channel`` of its
conversations, the metrics' label), a way to send the engine's neutral replies to one of its
chats, and which of its failures pass (tried again later) and which are final (the app refuses
the message: logged and dropped). Rendering, pacing and the app's limits stay inside the
channel's package.

Inbound, each channel reads its app's updates (a webhook, long polling, stdin), turns them into
:class:`dialogs.events.Event` whose key names the channel, lets the engine apply them and hands
what the turn owes to the dispatcher with :func:`hand_over`. Answering a pressed button (the
Bot API's callback query) is part of reading an update, so it stays inside the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from bot.deliver import ChatDeliverer
from dialogs.replies import Reply

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher
    from bot.effects import EffectRunner
    from dialogs.engine import Outcome
    from dialogs.events import ConversationKey


class Channel(Protocol):
    """A messaging app as the dispatcher sees it (Telegram, the terminal chat, ...)."""

    @property
    def name(self) -> str:
        """``telegram``, ``terminal``, ...: the ``channel`` of its conversations' keys."""
        ...

    async def send(self, chat_id: int, replies: Sequence[Reply], locale: str) -> None:
        """Each reply, rendered for this app, to ``chat_id``, in order."""
        ...

    def passing(self, exc: BaseException) -> bool:
        """A failure that sending again later can cure (the network, a server error)."""
        ...

    def final(self, exc: BaseException) -> bool:
        """A failure sending again cannot cure (the app refused the message)."""
        ...


class Nowhere:
    """No chat in this process (``onboard crm``, ``onboard invite``): its dispatcher is never
    started, so nothing is sent here; what turns owe is left to a process that has a chat."""

    name = "none"

    async def send(self, chat_id: int, replies: Sequence[Reply], locale: str) -> None:
        del chat_id, replies, locale

    def passing(self, exc: BaseException) -> bool:
        return False

    def final(self, exc: BaseException) -> bool:
        return False


def deliverer(channel: Channel, effects: EffectRunner) -> ChatDeliverer:
    """The dispatcher's deliverer for ``channel``: its replies through it, effects run here."""
    return ChatDeliverer(channel.send, effects, passing=channel.passing, final=channel.final)


def hand_over(dispatcher: Dispatcher, key: ConversationKey, outcome: Outcome) -> None:
    """What an applied event owes, to the dispatcher: the committed items, or the replies of
    a turn answered without a commit (e.g. an invitation refused)."""
    if outcome.items:
        dispatcher.submit(outcome.items, lead=outcome.lead)
    elif outcome.replies:
        dispatcher.send_now(key, outcome.replies, outcome.locale)
