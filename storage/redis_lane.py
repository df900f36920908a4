"""Auto-pipelined connections to one Redis server ("lanes"), and the router of a single Redis.

A call joins its lane's next batch; all commands issued while a batch is on the wire leave
together in one write, and their replies are read back in order. Alone, a call is still one
command and one round trip; under load, hundreds of turns share a handful of socket writes and
reads — which is what a turn's Redis time was made of (a syscall costs tens of µs here; the
redis-py call per command ~200 µs of CPU, more than the rest of the turn's engine work).

A :class:`Router` picks the lane of a call: :class:`SingleRouter` spreads calls over a few lanes
of one server; :class:`storage.redis_cluster.ClusterRouter` over lanes per cluster primary.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, Protocol

from hiredis import pack_command
from redis.asyncio import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from storage.redis_scripts import Script

POOL_TIMEOUT_SECONDS = 10  # waiting this long for a free connection means Redis is in trouble

Batch = list[tuple[tuple[Any, ...], asyncio.Future[Any]]]


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


class Router(Protocol):
    """Where a script call goes: the lane of the server holding ``keys`` (one hash slot);
    ``spread`` picks among that server's lanes (one conversation, one lane: its calls keep
    their order)."""

    async def script(
        self, script: Script, keys: list[str], *args: bytes | str | int, spread: int = 0
    ) -> Any: ...

    async def close(self) -> None: ...


class SingleRouter:
    """Every call to one Redis, over ``lanes`` lanes of its client's pool."""

    def __init__(self, redis: Redis, lanes: int = 1) -> None:
        self._lanes = [Lane(redis) for _ in range(max(1, lanes))]

    async def script(
        self, script: Script, keys: list[str], *args: bytes | str | int, spread: int = 0
    ) -> Any:
        return await self._lanes[spread % len(self._lanes)].script(script, keys, *args)

    async def close(self) -> None:
        for lane in self._lanes:
            await lane.close()


class Lane:
    """One connection of the client's pool, held while in use, carrying batches of commands.

    Only one batch is on the wire at a time; callers that arrive meanwhile wait for the next.
    A connection error fails the whole batch (the caller sees it as before, from redis-py) and
    the connection is dropped; the next batch takes a fresh one.
    """

    def __init__(self, redis: Redis) -> None:
        self._pool: Any = redis.connection_pool  # get_connection is untyped in redis-py
        self._pending: Batch = []
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None

    async def script(
        self, script: Script, keys: list[str], *args: bytes | str | int, asking: bool = False
    ) -> Any:
        """EVALSHA ``script`` (EVAL once when the server has not got it: after a restart or a
        SCRIPT FLUSH). ``asking``: preceded by ASKING on the same connection, in the same
        batch (a cluster slot being imported by this server, see the cluster router)."""
        if asking:  # queued together: the same batch, the same connection, in this order
            self._enqueue(("ASKING",)).add_done_callback(_retrieve)
        try:
            return await self._enqueue(("EVALSHA", script.sha, len(keys), *keys, *args))
        except NoScriptError:
            if asking:
                self._enqueue(("ASKING",)).add_done_callback(_retrieve)
            return await self._enqueue(("EVAL", script.source, len(keys), *keys, *args))

    async def call(self, *args: Any) -> Any:
        return await self._enqueue(args)

    def _enqueue(self, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((args, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return future

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

    async def _exchange(self, batch: Batch) -> None:
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


def _retrieve(future: asyncio.Future[Any]) -> None:
    """ASKING's own reply is not awaited by anyone: its error (if any) is the command's too."""
    if not future.cancelled():
        future.exception()
