"""Conversation state in Redis: one Lua script per call, so one round trip each.

Layout per conversation (both keys share a hash slot, see :mod:`storage.keys`):

* state key: a HASH with ``v`` (version, an integer) and ``d`` (the opaque data bytes);
* seen key: a ZSET of committed update ids, scored by the id, trimmed to the newest
  ``seen_limit`` so a long conversation does not grow it without bound.

Both keys carry the conversation TTL, refreshed on every commit; an idle conversation
simply disappears and starts again at version 0.

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
from typing import Any

from hiredis import pack_command
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import NoScriptError, ResponseError

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


POOL_TIMEOUT_SECONDS = 10  # waiting this long for a free connection means Redis is in trouble


def waiting_client(url: str, max_connections: int) -> Redis:
    """A client whose pool waits for a free connection when all are busy: redis-py's default
    pool raises ``MaxConnectionsError`` past 100 concurrent commands, which a busy worker
    reaches (200 updates in flight did). Fewer, busier connections also cost fewer syscalls.
    Closing the client closes the pool."""
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=POOL_TIMEOUT_SECONDS
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

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        ttl_seconds: int,
        key_builder: KeyBuilder | None = None,
        seen_limit: int = 256,
        max_connections: int = 64,
    ) -> RedisStateStore:
        """A store owning its own client (closed by :meth:`close`; see :func:`waiting_client`)."""
        client = waiting_client(url, max_connections)
        return cls(client, ttl_seconds=ttl_seconds, key_builder=key_builder, seen_limit=seen_limit)

    def _pair(self, key: ConversationKey) -> list[str]:
        return [self._keys.state(key), self._keys.seen(key)]

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        reply: Any = await self._script(_BEGIN, key, _update_arg(update_id))
        if not isinstance(reply, list):
            return DUPLICATE
        version, data = reply
        if version is None:
            return Snapshot(None, 0)
        return Snapshot(data, int(version))

    async def commit(
        self, key: ConversationKey, expected_version: int, data: bytes, update_id: int | None
    ) -> bool:
        reply: Any = await self._script(
            _COMMIT,
            key,
            expected_version,
            data,
            self._ttl_ms,
            _update_arg(update_id),
            self._seen_limit,
        )
        return bool(reply)

    async def _script(self, script: Script, key: ConversationKey, *args: bytes | str | int) -> Any:
        lane = self._lanes[hash(key) % len(self._lanes)]  # one conversation, one lane
        return await lane.script(script, self._pair(key), *args)

    async def delete(self, key: ConversationKey) -> None:
        await self._redis.delete(*self._pair(key))

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
                await self._exchange(batch)
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
        for _, future in batch:
            try:
                reply = await connection.read_response()
            except ResponseError as exc:  # this command's error; the stream is still in step
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
