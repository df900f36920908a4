"""Conversation state in Redis: one Lua script per call, so one round trip each.

Layout per conversation (both keys share a hash slot, see :mod:`storage.keys`):

* state key: a HASH with ``v`` (version, an integer) and ``d`` (the opaque data bytes);
* seen key: a ZSET of committed update ids, scored by the id, trimmed to the newest
  ``seen_limit`` so a long conversation does not grow it without bound.

Both keys carry the conversation TTL, refreshed on every commit; an idle conversation
simply disappears and starts again at version 0.

Scripts go through ``register_script``: EVALSHA, and on NOSCRIPT (first use, or a server
restart) SCRIPT LOAD and EVALSHA again, so once loaded each ``begin``/``commit`` is exactly
one command on the wire. Replies stay bytes (no ``decode_responses``): the data is binary.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, Snapshot
from storage.keys import KeyBuilder

# KEYS: state, seen. ARGV: update_id ('' when none).
# Returns -1 when the update was already committed, else {v, d} (nil when missing).
_BEGIN_LUA = """
if ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return -1
end
return redis.call('HMGET', KEYS[1], 'v', 'd')
"""

# KEYS: state, seen. ARGV: expected version, data, ttl ms, update_id ('' when none),
# seen_limit. Returns 1 when written, 0 on a version conflict.
_COMMIT_LUA = """
local expected = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= expected then
  return 0
end
redis.call('HSET', KEYS[1], 'v', tostring(expected + 1), 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[5]) + 1))
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
"""


def _update_arg(update_id: int | None) -> str:
    """Lua has no None: an empty string means "no update id"."""
    return "" if update_id is None else str(update_id)


class RedisStateStore:
    """:class:`dialogs.ports.StateStore` on ``redis.asyncio``; safe across processes."""

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: int,
        key_builder: KeyBuilder | None = None,
        seen_limit: int = 256,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        if seen_limit <= 0:
            raise ValueError("seen_limit must be positive")
        self._redis = redis
        self._keys = key_builder or KeyBuilder()
        self._ttl_ms = str(ttl_seconds * 1000)
        self._seen_limit = str(seen_limit)
        self._begin = redis.register_script(_BEGIN_LUA)
        self._commit = redis.register_script(_COMMIT_LUA)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        ttl_seconds: int,
        key_builder: KeyBuilder | None = None,
        seen_limit: int = 256,
    ) -> RedisStateStore:
        """A store owning its own client (closed by :meth:`close`)."""
        client: Redis = Redis.from_url(url)
        return cls(client, ttl_seconds=ttl_seconds, key_builder=key_builder, seen_limit=seen_limit)

    def _pair(self, key: ConversationKey) -> list[str]:
        return [self._keys.state(key), self._keys.seen(key)]

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        reply: Any = await self._begin(keys=self._pair(key), args=[_update_arg(update_id)])
        if not isinstance(reply, list):
            return DUPLICATE
        version, data = reply
        if version is None:
            return Snapshot(None, 0)
        return Snapshot(data, int(version))

    async def commit(
        self, key: ConversationKey, expected_version: int, data: bytes, update_id: int | None
    ) -> bool:
        args: list[bytes | str | int] = [
            expected_version,
            data,
            self._ttl_ms,
            _update_arg(update_id),
            self._seen_limit,
        ]
        reply: Any = await self._commit(keys=self._pair(key), args=args)
        return bool(reply)

    async def delete(self, key: ConversationKey) -> None:
        await self._redis.delete(*self._pair(key))

    async def close(self) -> None:
        await self._redis.aclose()
