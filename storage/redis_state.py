"""Conversation state in Redis: one Lua script per call, so one round trip each.

Layout per conversation (both keys share a hash slot, see :mod:`storage.keys`):

* state key: a HASH with ``v`` (version, an integer) and ``d`` (the opaque data bytes);
* seen key: a ZSET of committed update ids, scored by the id, trimmed to the newest
  ``seen_limit`` so a long conversation does not grow it without bound.

Both keys carry the conversation TTL, refreshed on every commit; an idle conversation
simply disappears and starts again at version 0.

What a turn owes (its replies and effects, :mod:`dialogs.owed`) is written by the same commit
script: a HASH ``{tag}:owed`` of item id → sealed item (no TTL: it lives until delivered), and
the conversation in the ZSET ``<prefix>:owed`` scored by when its delivery lease ends (Redis
``TIME``, so every machine reads one clock). The commit that finds nothing owed takes the lease
(:data:`~dialogs.ports.CommitResult.LEAD`); a commit behind an undelivered turn only adds its
items (QUEUED): the lease holder's :meth:`settle` returns them, or, when the holder died, its
lease ends and any process's :meth:`claim` takes the conversation over. On a Redis Cluster the
index is per bucket of conversations, in the bucket's slot (:mod:`storage.keys`).

Scripts run by EVALSHA, and on NOSCRIPT (first use, or a server restart) once by EVAL, which
loads them; so once loaded each ``begin``/``commit`` is exactly one command on the wire.
Replies stay bytes (no ``decode_responses``): the data is binary.

Auto-pipelining: ``begin``/``commit`` go through a few dedicated connections ("lanes",
:mod:`storage.redis_lane`); on a cluster, lanes per primary that follow MOVED, ASK and
failovers (:mod:`storage.redis_cluster`). Either way a call is one command on the wire.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, CommitResult, Snapshot
from storage.keys import CLUSTER_BUCKETS, KeyBuilder
from storage.recent import LIMIT as RECENT_LIMIT
from storage.recent import RecentStates
from storage.redis_cluster import open_client, router_for
from storage.redis_lane import Router
from storage.redis_scripts import (
    BEGIN,
    CLAIM,
    COMMIT,
    DROP_OWED,
    PURGE,
    RENEW,
    SETTLE_CHUNK,
    SETTLE_MANY,
    Script,
)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _update_arg(update_id: int | None) -> str:
    """Lua has no None: an empty string means "no update id"."""
    return "" if update_id is None else str(update_id)


class RedisStateStore:
    """:class:`dialogs.ports.StateStore` on ``redis.asyncio`` (one Redis, or a Redis Cluster
    when ``redis`` is a :class:`RedisCluster`); safe across processes and machines."""

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        ttl_seconds: int,
        key_builder: KeyBuilder | None = None,
        seen_limit: int = 256,
        lanes: int = 4,
        lease_seconds: float = 15.0,
        recent: int = RECENT_LIMIT,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        if seen_limit <= 0:
            raise ValueError("seen_limit must be positive")
        keys = key_builder or KeyBuilder()
        if isinstance(redis, RedisCluster) and not keys.buckets:
            keys = dataclasses.replace(keys, buckets=CLUSTER_BUCKETS)  # see storage.keys
        self._redis = redis
        self._keys = keys
        self._ttl_ms = str(ttl_seconds * 1000)
        self._seen_limit = str(seen_limit)
        self._router: Router = router_for(redis, lanes)
        self._lease_ms = str(int(lease_seconds * 1000))
        self._index = "" if keys.buckets else keys.owed_index()  # one Redis: the one index
        # the last state committed here, per conversation
        self._recent = RecentStates(recent, ttl_seconds=ttl_seconds, seen=seen_limit)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        ttl_seconds: int,
        key_builder: KeyBuilder | None = None,
        seen_limit: int = 256,
        max_connections: int = 64,
        lease_seconds: float = 15.0,
        recent: int = RECENT_LIMIT,
    ) -> RedisStateStore:
        """A store owning its own client, closed by :meth:`close` (``url``: one Redis, or
        ``redis+cluster://``, see :func:`storage.redis_cluster.open_client`)."""
        return cls(
            open_client(url, max_connections),
            ttl_seconds=ttl_seconds,
            key_builder=key_builder,
            seen_limit=seen_limit,
            lease_seconds=lease_seconds,
            recent=recent,
        )

    def _pair(self, key: ConversationKey) -> list[str]:
        return [self._keys.state(key), self._keys.seen(key)]

    def _index_of(self, key: ConversationKey) -> str:
        return self._index or self._keys.owed_index(key)

    def _keys_of(self, key: ConversationKey) -> list[str]:
        return [*self._pair(key), self._keys.owed(key), self._index_of(key)]

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        recent = self._recent.snapshot(key, update_id)
        if recent is not None:
            return recent
        reply: Any = await self._script(BEGIN, key, _update_arg(update_id))
        if not isinstance(reply, list):
            return DUPLICATE
        version, data = reply
        if version is None:
            return Snapshot(None, 0)
        self._recent.read(key, int(version))
        return Snapshot(data, int(version))

    async def commit(
        self,
        key: ConversationKey,
        expected_version: int,
        data: bytes,
        update_id: int | None,
        owed: Sequence[tuple[str, bytes]] = (),
    ) -> CommitResult:
        pairs = [part for item in owed for part in item]
        digest = self._recent.expected(key, expected_version)
        reply = int(
            await self._router.script(
                COMMIT,
                self._keys_of(key),
                expected_version,
                data,
                self._ttl_ms,
                _update_arg(update_id),
                self._seen_limit,
                self._lease_ms,
                key.text,
                digest,
                *pairs,
                spread=hash(key),  # one conversation, one lane
            )
        )
        if reply < 0:
            return CommitResult.DUPLICATE
        if not reply:
            if digest:
                self._recent.stale(key)
            return CommitResult.CONFLICT
        if digest:
            self._recent.hit()
        self._recent.committed(key, expected_version + 1, data, update_id)
        return CommitResult(reply)

    async def _script(self, script: Script, key: ConversationKey, *args: bytes | str | int) -> Any:
        return await self._router.script(script, self._pair(key), *args, spread=hash(key))

    # -- what is owed (dialogs.ports.OwedStore) ----------------------------------------

    async def settle(self, key: ConversationKey, done: Sequence[str]) -> list[tuple[str, bytes]]:
        (remaining,) = await self.settle_many([(key, done)])
        return remaining

    async def settle_many(
        self, batch: Sequence[tuple[ConversationKey, Sequence[str]]]
    ) -> list[list[tuple[str, bytes]]]:
        """One script call per owed index (one Redis: one; a cluster: one per bucket, whose
        conversations share its slot), of at most :data:`SETTLE_CHUNK` conversations."""
        groups: dict[str, list[int]] = {}
        for n, (key, _) in enumerate(batch):
            groups.setdefault(self._index_of(key), []).append(n)
        calls = []
        for index, members in groups.items():
            for start in range(0, len(members), SETTLE_CHUNK):
                chunk = members[start : start + SETTLE_CHUNK]
                keys: list[str] = [index]
                args: list[str | int] = [self._lease_ms]
                for n in chunk:
                    key, done = batch[n]
                    keys.append(self._keys.owed(key))
                    args += [key.text, len(done), *done]
                calls.append(
                    (chunk, self._router.script(SETTLE_MANY, keys, *args, spread=hash(index)))
                )
        settled: list[list[tuple[str, bytes]]] = [[] for _ in batch]
        one = len(calls) == 1  # (one Redis, most of the time: no task for the gather)
        replies = [await calls[0][1]] if one else await asyncio.gather(*(c for _, c in calls))
        for (chunk, _), reply in zip(calls, replies, strict=True):
            for n, owed in zip(chunk, reply, strict=True):
                settled[n] = _pairs(owed)
        return settled

    async def owed(self, key: ConversationKey) -> list[tuple[str, bytes]]:
        return await self.settle(key, ())

    async def claim(self, limit: int = 100) -> list[ConversationKey]:
        """Ended leases, taken over: up to ``limit`` from the one index, or from each bucket's
        on a cluster (their calls pipelined per primary: one write each)."""
        indexes = self._keys.owed_indexes()
        replies: list[Any] = await asyncio.gather(
            *(self._router.script(CLAIM, [index], self._lease_ms, limit) for index in indexes)
        )
        return [ConversationKey.parse(member.decode()) for reply in replies for member in reply]

    async def renew(self, keys: Sequence[ConversationKey], *, end: bool = False) -> None:
        lease = "0" if end else self._lease_ms
        by_index: dict[str, list[str]] = {}
        for key in keys:
            by_index.setdefault(self._index_of(key), []).append(str(key))
        await asyncio.gather(
            *(self._router.script(RENEW, [i], lease, *members) for i, members in by_index.items())
        )

    async def delete(self, key: ConversationKey) -> None:
        """The conversation and anything it still owed (nothing of it is delivered)."""
        self._recent.forget(key)
        await self._redis.delete(*self._pair(key), self._keys.owed(key))
        await self._redis.zrem(self._index_of(key), str(key))

    async def erase(self, key: ConversationKey) -> None:
        self._recent.forget(key)
        await self._redis.delete(*self._pair(key))

    async def purge_finished(self, finished: Callable[[bytes], bool], *, limit: int = 1000) -> int:
        """SCAN the conversations (every primary's, on a cluster); each one ``finished`` picks
        is deleted by a script only if its version is still the one read (a turn in between
        keeps it)."""
        gone = 0
        self._recent.forget()
        pattern = self._keys.state_pattern()
        async for name in self._redis.scan_iter(match=pattern, count=500):
            version, data = await self._redis.hmget(name, ["v", "d"])
            if version is None or data is None or not finished(_as_bytes(data)):
                continue
            seen = _text(name)[: -len("conv")] + "seen"
            gone += int(await self._router.script(PURGE, [_text(name), seen], version))
            if gone >= limit:
                break
        return gone

    async def purge_owed(self, committed_before: Callable[[str], bool]) -> int:
        gone = 0
        for index in self._keys.owed_indexes():
            for member in await self._redis.zrange(index, 0, -1):
                key = ConversationKey.parse(_text(member))  # type: ignore[arg-type]
                owed = self._keys.owed(key)
                hkeys = await self._redis.hkeys(owed)
                old = [i for i in map(_text, hkeys) if committed_before(i)]
                if old:
                    await self._router.script(DROP_OWED, [owed, index], str(key), *old)
                    gone += len(old)
        return gone

    async def close(self) -> None:
        await self._router.close()
        await self._redis.aclose()


def _pairs(reply: list[bytes]) -> list[tuple[str, bytes]]:
    """HGETALL's flat reply as (item id, blob), in the conversation's order."""
    items = [(reply[n].decode(), reply[n + 1]) for n in range(0, len(reply), 2)]
    return sorted(items)
