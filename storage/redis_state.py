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
lease ends and any process's :meth:`claim` takes the conversation over. The index key is the
one key outside the conversation's slot (one Redis; a cluster needs it per slot, issue 15).

Scripts run by EVALSHA, and on NOSCRIPT (first use, or a server restart) once by EVAL, which
loads them; so once loaded each ``begin``/``commit`` is exactly one command on the wire.
Replies stay bytes (no ``decode_responses``): the data is binary.

Auto-pipelining: ``begin``/``commit`` go through a few dedicated connections ("lanes"). A call
joins its lane's next batch; all commands issued while a batch is on the wire leave together
in one write, and their replies are read back in order. Alone, a call is still one command and
one round trip; under load, hundreds of turns share a handful of socket writes and reads —
which is what a turn's Redis time was made of (a syscall costs tens of µs here; the redis-py
call per command ~200 µs of CPU, more than the rest of the turn's engine work).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Callable, Sequence
from typing import Any

from hiredis import pack_command
from redis.asyncio import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, CommitResult, Snapshot
from storage.keys import KeyBuilder
from storage.recent import LIMIT as RECENT_LIMIT
from storage.recent import RecentStates

# KEYS: state, seen. ARGV: update_id ('' when none).
# Returns -1 when the update was already committed, else {v, d} (nil when missing).
_BEGIN_LUA = """
if ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return -1
end
return redis.call('HMGET', KEYS[1], 'v', 'd')
"""

_NOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: state, seen, owed, owed index. ARGV: expected version, data, ttl ms, update_id ('' when
# none), seen_limit, lease ms, index member, the SHA-1 of the data expected (the turn started
# from this process's last commit, storage/recent.py: the update is checked here as begin
# would; '' when it started from a read), then owed item id/blob pairs.
# Returns 0 on a conflict, -1 when the update was already committed, else 1 (written; this
# caller delivers what is owed) or 2 (written; an earlier turn's delivery is under way and
# takes these items too).
_COMMIT_LUA = (
    """
local expected = tonumber(ARGV[1])
if ARGV[8] ~= '' then
  if ARGV[4] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[4]) then
    return -1
  end
  local found = redis.call('HMGET', KEYS[1], 'v', 'd')
  if tonumber(found[1] or '0') ~= expected or not found[2]
      or redis.sha1hex(found[2]) ~= ARGV[8] then
    return 0
  end
elseif tonumber(redis.call('HGET', KEYS[1], 'v') or '0') ~= expected then
  return 0
end
redis.call('HSET', KEYS[1], 'v', tostring(expected + 1), 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[5]) + 1))
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
if #ARGV < 10 then
  return 1
end
local lead = redis.call('EXISTS', KEYS[3]) == 0
redis.call('HSET', KEYS[3], unpack(ARGV, 9))
"""
    + _NOW_LUA
    + """
if lead then
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[6]), ARGV[7])
  return 1
end
redis.call('ZADD', KEYS[4], 'NX', now, ARGV[7])
return 2
"""
)

# KEYS: owed, owed index. ARGV: member, lease ms, ids done. Removes the done items; returns
# what is still owed (the lease renewed), or nothing (the lease given up).
_SETTLE_LUA = (
    """
if #ARGV > 2 then
  redis.call('HDEL', KEYS[1], unpack(ARGV, 3))
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {}
end
"""
    + _NOW_LUA
    + """
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return redis.call('HGETALL', KEYS[1])
"""
)

# KEYS: owed index. ARGV: lease ms, limit. Takes over conversations whose lease has ended.
_CLAIM_LUA = (
    _NOW_LUA
    + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), member)
end
return due
"""
)

# KEYS: owed index. ARGV: lease ms (0: end the lease now, for another process), members.
_RENEW_LUA = (
    _NOW_LUA
    + """
local score = now + tonumber(ARGV[1])
if tonumber(ARGV[1]) == 0 then
  score = 0
end
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', score, ARGV[i])
end
return #ARGV - 1
"""
)


POOL_TIMEOUT_SECONDS = 10  # waiting this long for a free connection means Redis is in trouble


# KEYS: state, seen. ARGV: the version read. Deletes both if the version is unchanged.
_PURGE_LUA = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""


# KEYS: owed, owed index. ARGV: member, item ids. Drops the items; the conversation leaves the
# index when nothing else is owed.
_DROP_OWED_LUA = """
redis.call('HDEL', KEYS[1], unpack(ARGV, 2))
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def waiting_client(url: str, max_connections: int) -> Redis:
    """A client whose pool waits for a free connection when all are busy: redis-py's default
    pool raises ``MaxConnectionsError`` past 100 concurrent commands, which a busy worker
    reaches (200 updates in flight did). Fewer, busier connections also cost fewer syscalls.
    Closing the client closes the pool."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=POOL_TIMEOUT_SECONDS,
        # After a Redis restart the pooled connections are dead: a command on one fails
        # once and is sent again on a fresh connection, not failed to the caller.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


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
        lanes: int = 4,
        lease_seconds: float = 15.0,
        recent: int = RECENT_LIMIT,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        if seen_limit <= 0:
            raise ValueError("seen_limit must be positive")
        self._redis = redis
        self._keys = key_builder or KeyBuilder()
        self._ttl_ms = str(ttl_seconds * 1000)
        self._seen_limit = str(seen_limit)
        self._lanes = [Lane(redis) for _ in range(max(1, lanes))]
        self._lease_ms = str(int(lease_seconds * 1000))
        self._index = self._keys.owed_index()
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
    ) -> RedisStateStore:
        """A store owning its own client (closed by :meth:`close`; see :func:`waiting_client`)."""
        client = waiting_client(url, max_connections)
        return cls(
            client,
            ttl_seconds=ttl_seconds,
            key_builder=key_builder,
            seen_limit=seen_limit,
            lease_seconds=lease_seconds,
        )

    def _pair(self, key: ConversationKey) -> list[str]:
        return [self._keys.state(key), self._keys.seen(key)]

    def _keys_of(self, key: ConversationKey) -> list[str]:
        return [*self._pair(key), self._keys.owed(key), self._index]

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        recent = self._recent.snapshot(key, update_id)
        if recent is not None:
            return recent
        reply: Any = await self._script(_BEGIN, key, _update_arg(update_id))
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
            await self._lane(key).script(
                _COMMIT,
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

    def _lane(self, key: ConversationKey) -> Lane:
        return self._lanes[hash(key) % len(self._lanes)]  # one conversation, one lane

    async def _script(self, script: Script, key: ConversationKey, *args: bytes | str | int) -> Any:
        return await self._lane(key).script(script, self._pair(key), *args)

    # -- what is owed (dialogs.ports.OwedStore) ----------------------------------------

    async def settle(self, key: ConversationKey, done: Sequence[str]) -> list[tuple[str, bytes]]:
        reply: Any = await self._lane(key).script(
            _SETTLE, [self._keys.owed(key), self._index], str(key), self._lease_ms, *done
        )
        return _pairs(reply)

    async def owed(self, key: ConversationKey) -> list[tuple[str, bytes]]:
        return await self.settle(key, ())

    async def claim(self, limit: int = 100) -> list[ConversationKey]:
        reply: Any = await self._lanes[0].script(_CLAIM, [self._index], self._lease_ms, limit)
        return [ConversationKey.parse(member.decode()) for member in reply]

    async def renew(self, keys: Sequence[ConversationKey], *, end: bool = False) -> None:
        if keys:
            lease = "0" if end else self._lease_ms
            await self._lanes[0].script(_RENEW, [self._index], lease, *map(str, keys))

    async def delete(self, key: ConversationKey) -> None:
        """The conversation and anything it still owed (nothing of it is delivered)."""
        self._recent.forget(key)
        await self._redis.delete(*self._pair(key), self._keys.owed(key))
        await self._redis.zrem(self._index, str(key))

    async def erase(self, key: ConversationKey) -> None:
        self._recent.forget(key)
        await self._redis.delete(*self._pair(key))

    async def purge_finished(self, finished: Callable[[bytes], bool], *, limit: int = 1000) -> int:
        """SCAN the conversations; each one ``finished`` picks is deleted by a script only if
        its version is still the one read (a turn in between keeps it)."""
        gone = 0
        self._recent.forget()
        pattern = self._keys.state_pattern()
        async for name in self._redis.scan_iter(match=pattern, count=500):
            version, data = await self._redis.hmget(name, ["v", "d"])
            if version is None or data is None or not finished(_as_bytes(data)):
                continue
            seen = bytes(name)[: -len(b"conv")] + b"seen"
            gone += int(await self._redis.eval(_PURGE_LUA, 2, name, seen, version))
            if gone >= limit:
                break
        return gone

    async def purge_owed(self, committed_before: Callable[[str], bool]) -> int:
        gone = 0
        for member in await self._redis.zrange(self._index, 0, -1):
            key = ConversationKey.parse(
                member.decode() if isinstance(member, bytes) else str(member)
            )
            owed = self._keys.owed(key)
            old = [i for i in map(_text, await self._redis.hkeys(owed)) if committed_before(i)]
            if old:
                await self._redis.eval(_DROP_OWED_LUA, 2, owed, self._index, str(key), *old)
                gone += len(old)
        return gone

    async def close(self) -> None:
        for lane in self._lanes:
            await lane.close()
        await self._redis.aclose()


class Script:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


_BEGIN = Script(_BEGIN_LUA)
_COMMIT = Script(_COMMIT_LUA)
_SETTLE = Script(_SETTLE_LUA)
_CLAIM = Script(_CLAIM_LUA)
_RENEW = Script(_RENEW_LUA)


def _pairs(reply: list[bytes]) -> list[tuple[str, bytes]]:
    """HGETALL's flat reply as (item id, blob), in the conversation's order."""
    items = [(reply[n].decode(), reply[n + 1]) for n in range(0, len(reply), 2)]
    return sorted(items)


class Lane:
    """One connection of the client's pool, held while in use, carrying batches of commands.

    Only one batch is on the wire at a time; callers that arrive meanwhile wait for the next.
    A connection error fails the whole batch (the caller sees it as before, from redis-py) and
    the connection is dropped; the next batch takes a fresh one.
    """

    def __init__(self, redis: Redis) -> None:
        self._pool: Any = redis.connection_pool  # get_connection is untyped in redis-py
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None

    async def script(self, script: Script, keys: list[str], *args: bytes | str | int) -> Any:
        """EVALSHA ``script`` (EVAL once when the server has not got it: after a restart or a
        SCRIPT FLUSH)."""
        try:
            return await self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self.call("EVAL", script.source, len(keys), *keys, *args)

    async def call(self, *args: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((args, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                try:
                    await self._exchange(batch)
                except (RedisConnectionError, RedisTimeoutError, OSError):
                    # A connection that died while idle (Redis restarted): once more on a
                    # fresh one. Safe: begin reads; a commit that did land reads as a
                    # conflict, and the recomputed turn then finds its update already seen.
                    await self._drop()
                    await self._exchange([entry for entry in batch if not entry[1].done()])
            except BaseException as exc:
                await self._drop()
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise

    async def _exchange(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        if self._connection is None:
            self._connection = await self._pool.get_connection()
        connection = self._connection
        # hiredis packs in C; redis-py's async packer is pure Python (7% of the CPU per update).
        await connection.send_packed_command(b"".join([pack_command(args) for args, _ in batch]))
        # One deadline for the whole batch's replies (redis-py would arm a timer per reply:
        # ~5% of the CPU per update); a batch that runs out of it drops the connection.
        async with asyncio.timeout(connection.socket_timeout):
            for _, future in batch:
                try:
                    reply = await connection.read_response(timeout=math.inf)
                except ResponseError as exc:  # this command's error; the stream is in step
                    if not future.done():
                        future.set_exception(exc)
                    continue
                if not future.done():
                    future.set_result(reply)

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.disconnect()
            await self._pool.release(connection)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._pool.release(connection)
