"""The cap on sends per address, shared by every worker and conversation.

A sliding window: at most ``limit`` sends to one subject (a keyed hash of the address) in any
``window`` seconds. Two backends behind :class:`dialogs.ports.SendLimiter`:

* Redis (when ``REDIS_URL`` is set): one Lua script, so one round trip, only when a mail or SMS
  is about to be sent; updates that send nothing never touch it.
* SQL (the embedded default): one transaction on a row per subject, locked (``FOR UPDATE`` on
  PostgreSQL, the database write lock on SQLite) so two workers cannot both take the last slot.

Time comes from the caller (the injected clock), not from the server.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.models import SendLimitRow
from storage.redis_cluster import open_client, router_for
from storage.redis_scripts import Script

# KEYS: the subject's sorted set. ARGV: now, window, limit, a unique member.
# Returns "0" when the send is recorded, else the seconds until a slot frees up.
_ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window))
return '0'
"""


_ACQUIRE = Script(_ACQUIRE_LUA)


class RedisSendLimiter:
    """:class:`dialogs.ports.SendLimiter` on Redis (a sorted set of send times per subject)."""

    def __init__(self, redis: Redis | RedisCluster, *, prefix: str = "ob:limit:") -> None:
        self._redis = redis
        self._prefix = prefix
        # One pipelined connection (the state store's Lane; on a cluster, one per primary):
        # concurrent sends share writes, and a call costs a fraction of redis-py's client
        # path (9% of the bot's CPU in ``python -m bench --profile`` when the cap went
        # through it).
        self._router = router_for(redis, 1)

    @classmethod
    def from_url(cls, url: str, *, max_connections: int = 32) -> RedisSendLimiter:
        """A limiter owning its client (see :func:`storage.redis_lane.waiting_client`: with
        redis-py's default pool the courier's sends hit ``MaxConnectionsError`` at 200
        customers in flight before the cap had a lane; a cluster URL: see
        :func:`storage.redis_cluster.open_client`)."""
        return cls(open_client(url, max_connections))

    async def prepare(self) -> None:
        await self._redis.script_load(_ACQUIRE_LUA)

    async def acquire(self, subject: str, *, now: float, limit: int, window: float) -> float:
        member = f"{now!r}:{secrets.token_hex(4)}"
        args = (repr(now), repr(float(window)), limit, member)
        reply: Any = await self._router.script(_ACQUIRE, [self._prefix + subject], *args)
        return max(0.0, float(reply))

    async def close(self) -> None:
        await self._router.close()
        await self._redis.aclose()


class SqlSendLimiter:
    """:class:`dialogs.ports.SendLimiter` on the SQL database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def prepare(self) -> None:
        """The table comes with the migrations; nothing to prepare."""

    async def acquire(self, subject: str, *, now: float, limit: int, window: float) -> float:
        async with self._engine.begin() as connection:
            ensure = dialect_insert(connection, SendLimitRow.__table__)
            await connection.execute(
                ensure.values(subject=subject, sends="[]", last_at=now).on_conflict_do_nothing()
            )
            query = select(SendLimitRow.sends).where(SendLimitRow.subject == subject)
            stored = (await connection.execute(query.with_for_update())).scalar_one()
            recent = [t for t in json.loads(stored) if now - t < window]
            wait = min(recent) + window - now if len(recent) >= limit else 0.0
            if not wait:
                recent.append(now)
            await connection.execute(
                update(SendLimitRow)
                .where(SendLimitRow.subject == subject)
                .values(sends=json.dumps(recent), last_at=max([now, *recent]))
            )
        return wait

    async def purge(self, *, now: float, older_than: float) -> int:
        """Forget subjects with no send in ``older_than`` seconds; return how many."""
        statement = delete(SendLimitRow).where(SendLimitRow.last_at < now - older_than)
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def close(self) -> None:
        """The engine belongs to the app; nothing of its own to close."""


def minutes_until(seconds: float) -> int:
    """Whole minutes to tell a person, never 0 while something is still refused."""
    return max(1, math.ceil(seconds / 60))
