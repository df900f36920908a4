"""What this process committed last per conversation, so the next turn here skips the read.

A conversation's next update usually reaches the process that committed its last one (polling
has one process; a single worker has them all). Its turn can then start from the state this
process wrote instead of reading it back: the commit script checks, in the same round trip,
that the stored version and data are still exactly those (the data by its SHA-1: a state
erased and walked again to the same version by another process is not taken for ours) and
that the update is not already applied. A stale entry costs one turn computed for nothing
(the commit answers CONFLICT and the engine tries again from a read).

Where conversations hop between processes (webhook workers or machines behind a balancer
that do not keep a chat on one of them), most entries would be stale. So the cache watches
its own hit rate: a moving average of how often an entry was stale, from the cached commits
and from the reads that found an entry (compared by version). Above :data:`DISABLE_AT` it is
not used (entries are still kept and compared, so the rate goes on being measured); below
:data:`ENABLE_AT` it is used again.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, Snapshot

LIMIT = 5_000
"""Conversations kept (least recently used dropped first): ~1 KB each, about 5 MB at most; the
conversations a process is serving at once (the benchmark's 200 in flight) fit many times."""
DISABLE_AT = 0.2
ENABLE_AT = 0.05
WEIGHT = 0.02
"""Of each new observation in the moving average (about the last 50 turns)."""
SEEN = 4
"""Update ids kept per conversation: a redelivery to this process is known without Redis."""


@dataclass(slots=True)
class Recent:
    version: int
    data: bytes
    digest: str
    seen: tuple[int, ...]
    until: float  # time.monotonic() past which the conversation may have expired in Redis


class RecentStates:
    """``ttl_seconds``: the conversation's time to live in the store (an entry older than
    that may describe a conversation that expired); ``seen``: as many update ids as the
    store keeps per conversation, at most."""

    def __init__(self, limit: int = LIMIT, *, ttl_seconds: float, seen: int = SEEN) -> None:
        self.limit = limit
        self.ttl = ttl_seconds * 0.9  # a margin for the clocks of Redis and of this process
        self.seen = max(1, min(seen, SEEN))
        self._entries: OrderedDict[ConversationKey, Recent] = OrderedDict()
        self.stale_rate = 0.0
        self.enabled = limit > 0

    def snapshot(self, key: ConversationKey, update_id: int | None) -> Snapshot | None:
        """The state to start the turn for ``update_id`` from without a read, or None (read
        it). Without an update id it is always None: a reader (a web page, an export) gets
        what is stored, not what this process wrote last."""
        entry = self._entries.get(key) if update_id is not None else None
        if entry is None:
            return None
        if entry.until < time.monotonic():
            del self._entries[key]
            return None
        if update_id in entry.seen:
            return DUPLICATE  # committed by this process
        if not self.enabled:
            return None
        self._entries.move_to_end(key)
        return Snapshot(entry.data, entry.version)

    def expected(self, key: ConversationKey, version: int) -> str:
        """The digest the commit must find stored ('' when the turn started from a read)."""
        entry = self._entries.get(key)
        if entry is None or not self.enabled or entry.version != version:
            return ""
        return entry.digest

    def read(self, key: ConversationKey, version: int) -> None:
        """A read found ``version``: was the entry (if any) still current?"""
        entry = self._entries.get(key)
        if entry is not None:
            self._observe(stale=entry.version != version)

    def committed(
        self, key: ConversationKey, version: int, data: bytes, update_id: int | None
    ) -> None:
        if not self.limit:
            return
        entry = self._entries.pop(key, None)
        seen = entry.seen[-(self.seen - 1) :] if entry is not None and self.seen > 1 else ()
        if update_id is not None:
            seen = (*seen, update_id)
        digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        self._entries[key] = Recent(version, data, digest, seen, time.monotonic() + self.ttl)
        if len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def hit(self) -> None:
        """A commit from an entry found it current."""
        self._observe(stale=False)

    def stale(self, key: ConversationKey) -> None:
        """A commit from an entry found another state stored: drop it, read next time."""
        self._entries.pop(key, None)
        self._observe(stale=True)

    def forget(self, key: ConversationKey | None = None) -> None:
        """This process deleted the conversation (``None``: several)."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    def _observe(self, *, stale: bool) -> None:
        self.stale_rate += WEIGHT * ((1.0 if stale else 0.0) - self.stale_rate)
        if self.enabled and self.stale_rate > DISABLE_AT:
            self.enabled = False
        elif not self.enabled and self.stale_rate < ENABLE_AT and self.limit:
            self.enabled = True
