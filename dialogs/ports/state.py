"""The conversation stores: the engine's two calls per update (begin, commit), and what committed
turns owe, which the dispatcher (bot/dispatch.py) delivers. Implemented in storage/."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dialogs.events import ConversationKey


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A conversation as read by :meth:`StateStore.begin`.

    ``data`` is None for a conversation never seen (``version`` is then 0).
    ``duplicate`` is True when the update was already applied: do nothing.
    """

    data: bytes | None
    version: int
    duplicate: bool = False


DUPLICATE = Snapshot(None, 0, duplicate=True)


class CommitResult(enum.IntEnum):
    """What :meth:`StateStore.commit` did: true when it wrote (LEAD, QUEUED)."""

    CONFLICT = 0
    LEAD = 1
    """Written; nothing else was owed, so this caller delivers what the turn owes (it holds
    the conversation's delivery lease)."""
    QUEUED = 2
    """Written; an earlier turn's items are still being delivered, and whoever delivers them
    (this process or another) takes these too, in order."""
    DUPLICATE = 3
    """Not written: the update was already committed (found at commit time when the turn
    started without a read, storage/recent.py)."""

    def __bool__(self) -> bool:
        return self is CommitResult.LEAD or self is CommitResult.QUEUED


class StateStore(Protocol):
    """Conversation state with optimistic concurrency and update de-duplication.

    ``begin`` and ``commit`` are each one round trip to the backend (``begin`` none when the
    store remembers the conversation's last commit and an update starts a turn from it:
    storage/recent.py; ``begin(key, None)`` always reads what is stored).
    """

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        """Return DUPLICATE if ``update_id`` was already committed, else the state."""
        ...

    async def commit(
        self,
        key: ConversationKey,
        expected_version: int,
        data: bytes,
        update_id: int | None,
        owed: Sequence[tuple[str, bytes]] = (),
    ) -> CommitResult:
        """Write ``data`` as version ``expected_version + 1`` if the stored version is still
        ``expected_version``; remember ``update_id``; refresh the TTL; and, in the same
        transaction, keep the ``owed`` items (id, sealed item: :mod:`dialogs.owed`) until
        they are settled. CONFLICT when another writer got there first; DUPLICATE when the
        update was already committed (a store may find that only here, see ``begin``)."""
        ...

    async def delete(self, key: ConversationKey) -> None: ...

    async def erase(self, key: ConversationKey) -> None:
        """The conversation and its seen update ids (/forget); what it still owes stays, to
        be delivered (the erasure's own notice among it)."""
        ...

    async def purge_finished(self, finished: Callable[[bytes], bool], *, limit: int = 1000) -> int:
        """Delete the conversations whose data ``finished`` says are past their time (unless
        they changed meanwhile); return how many went."""
        ...

    async def purge_owed(self, committed_before: Callable[[str], bool]) -> int:
        """Drop owed items whose id ``committed_before`` picks (undelivered too long); return
        how many went."""
        ...

    async def close(self) -> None: ...


class OwedStore(Protocol):
    """The items committed turns owe, with one delivery lease per conversation (the same
    backend as the state: the commit writes them)."""

    async def settle(self, key: ConversationKey, done: Sequence[str]) -> list[tuple[str, bytes]]:
        """Forget the ``done`` items. When nothing else is owed, end the lease and return [];
        else renew it and return what is still owed (turns committed meanwhile), in order."""
        ...

    async def settle_many(
        self, batch: Sequence[tuple[ConversationKey, Sequence[str]]]
    ) -> list[list[tuple[str, bytes]]]:
        """:meth:`settle` for each conversation of ``batch`` (in as few calls to the backend
        as it allows); what each still owes, in the batch's order."""
        ...

    async def owed(self, key: ConversationKey) -> list[tuple[str, bytes]]:
        """Everything still owed in the conversation, in order (renews the lease)."""
        ...

    async def claim(self, limit: int = 100) -> list[ConversationKey]:
        """Take the lease of conversations whose lease ended (their holder died or left)."""
        ...

    async def renew(self, keys: Sequence[ConversationKey], *, end: bool = False) -> None:
        """Extend the leases held on ``keys`` (``end``: let another process take them now)."""
        ...
