"""What the benchmark counts: Redis round trips (client side), Redis commands (server side,
``INFO commandstats``, commands run inside Lua scripts included), Redis bytes per
conversation (``MEMORY USAGE``), and peak RSS."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import Connection

from bot.outbox import IN_BACKGROUND
from storage.redis_lane import Lane


class RoundTrips:
    """Counts every packed command a redis-py connection sends (a pipeline is one): socket
    writes. ``exchanges`` counts request/reply exchanges an update waits for instead: the state
    store's auto-pipelined calls each count as one, however many share a write."""

    def __init__(self) -> None:
        self.count = 0
        self.lane_calls = 0
        self.lane_batches = 0
        self.background = 0  # writes from the courier's tasks, which no update waits for
        self.background_calls = 0  # their calls (a lane's write can carry several)

    def reset(self) -> None:
        self.count = self.lane_calls = self.lane_batches = 0
        self.background = self.background_calls = 0

    @property
    def exchanges(self) -> int:
        return self.count - self.lane_batches + self.lane_calls

    @contextmanager
    def installed(self) -> Iterator[RoundTrips]:
        with self._lanes_counted():
            yield from self._writes_counted()

    @contextmanager
    def _lanes_counted(self) -> Iterator[None]:
        original_enqueue, original_exchange = Lane._enqueue, Lane._exchange
        counter = self

        def enqueue(self: Lane, args: tuple[Any, ...]) -> Any:  # every command a lane sends
            if not IN_BACKGROUND.get():  # the courier's send cap has a lane of its own
                counter.lane_calls += 1
            return original_enqueue(self, args)

        async def exchange(self: Lane, batch: Any) -> None:
            if not IN_BACKGROUND.get():  # a lane's drain task runs in its first caller's context
                counter.lane_batches += 1
            else:
                counter.background_calls += len(batch)
            await original_exchange(self, batch)

        Lane._enqueue, Lane._exchange = enqueue, exchange  # type: ignore[method-assign]
        try:
            yield
        finally:
            Lane._enqueue, Lane._exchange = original_enqueue, original_exchange  # type: ignore[method-assign]

    def _writes_counted(self) -> Iterator[RoundTrips]:
        original = Connection.send_packed_command
        counter = self

        async def counting(
            self: Connection, command: bytes | str | Iterable[bytes], check_health: bool = True
        ) -> None:
            if IN_BACKGROUND.get():
                counter.background += 1
            else:
                counter.count += 1
            await original(self, command, check_health)

        Connection.send_packed_command = counting  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Connection.send_packed_command = original  # type: ignore[method-assign]


async def commands_total(redis: Redis) -> int:
    """Commands executed by the server so far (all clients, scripts' inner calls included)."""
    stats: dict[str, Any] = await redis.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if not k.endswith(("info", "memory")))


async def bytes_per_key_group(redis: Redis, pattern: str, group: int = 2) -> float:
    """Average ``MEMORY USAGE`` over keys matching ``pattern``, per group of ``group`` keys
    (a conversation has a state key and a seen-set key)."""
    total = keys = 0
    async for key in redis.scan_iter(match=pattern, count=1000):
        total += int(await redis.memory_usage(key, samples=0) or 0)
        keys += 1
    return total / (keys / group) if keys else 0.0


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_of(pid: int) -> float:
    """Peak RSS (VmHWM) of another process, in MB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (e.g. every PostgreSQL backend)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm", encoding="ascii") as comm:
                    if comm.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                continue
    return found


async def redis_cpu_seconds(redis: Redis) -> float:
    """CPU seconds the Redis server has used so far (``INFO cpu``; all its clients)."""
    info: dict[str, Any] = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
