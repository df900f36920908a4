"""What this process delivered and has not settled yet, per conversation.

The dispatcher (bot/dispatch.py) notes each item it delivered here. Whichever comes first
forgets them in the store: the conversation's next commit (the engine passes them to
:meth:`~dialogs.ports.StateStore.commit`, no round trip of its own: a conversation that goes
on is settled by its own turns) or the dispatcher's settle once the conversation is quiet.
Shared by both through the composition root (bot/app.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.events import ConversationKey


class DeliveredLedger:
    """:class:`dialogs.ports.DeliveredMarks`, kept in memory (a process that dies leaves its
    items unsettled: they are delivered again, the one duplicate the guarantee allows)."""

    def __init__(self) -> None:
        self._done: dict[ConversationKey, list[str]] = {}

    def add(self, key: ConversationKey, item_id: str) -> None:
        self._done.setdefault(key, []).append(item_id)

    def has(self, key: ConversationKey) -> bool:
        return key in self._done

    def take(self, key: ConversationKey) -> list[str]:
        return self._done.pop(key, [])

    def give_back(self, key: ConversationKey, ids: Sequence[str]) -> None:
        if ids:
            self._done[key] = [*ids, *self._done.get(key, ())]
