"""1 worker, then 2, over loopback HTTP webhooks: the speed-up, and a check that no update was
lost or applied twice (each conversation's version counts its applied updates; a share of the
updates is delivered twice, as Telegram does when a webhook answer is late)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.botapi import BOT_ID, callback_update, text_update
from bench.customers import FIRST_USER_ID, UPDATES_PER_CUSTOMER, Stats, eik, email
from bench.measure import cpu_seconds_of, peak_rss_of, pids_named, redis_cpu_seconds
from bench.place import WEBHOOK_SECRET, Place, flush
from bench.server import PIN_PREFIX
from dialogs.events import ConversationKey
from storage.keys import KeyBuilder
from storage.redis_lane import waiting_client

ROOT = Path(__file__).resolve().parent.parent
PATH = "/telegram/webhook"
DUPLICATE_EVERY = 20  # every 20th update is delivered twice


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Hook:
    """A keep-alive HTTP/1.1 connection posting updates (hand-rolled: the driver must cost
    the two cores as little as possible)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, update: dict[str, Any]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        body = json.dumps(update).encode()
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in headers.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return int(headers.split(b" ", 2)[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Balancer:
    """One driver connection to each server, taken in turn per update (a load balancer's
    round robin: one customer's updates reach every machine)."""

    def __init__(self, ports: list[int]) -> None:
        self.hooks = [Hook(port) for port in ports]
        self.turn = 0

    async def post(self, update: dict[str, Any]) -> int:
        self.turn += 1
        return await self.hooks[self.turn % len(self.hooks)].post(update)

    async def close(self) -> None:
        for hook in self.hooks:
            await hook.close()


async def _pin(redis: Redis, key: str) -> str:
    """The code the worker "mailed" (mail leaves in the background: wait for it a little)."""
    for _ in range(100):
        pin = await redis.get(key)
        if pin is not None:
            return str(pin.decode())
        await asyncio.sleep(0.05)
    return "000000"


async def _walk(index: int, hook: Balancer, ids: Any, redis: Redis, stats: Stats) -> None:
    uid = FIRST_USER_ID + index
    pin_key = PIN_PREFIX + email(index)
    for step in range(UPDATES_PER_CUSTOMER):
        if step == 4:
            update = callback_update(next(ids), uid, "s:code:resend")
        elif step == 5:
            update = text_update(next(ids), uid, await _pin(redis, pin_key))
        else:
            text = ("/start", "12345", eik(index), email(index))[step]
            update = text_update(next(ids), uid, text)
        start = time.perf_counter()
        status = await hook.post(update)
        stats.latencies.append(time.perf_counter() - start)
        if status != 200:
            stats.failures.append(f"customer {index}: HTTP {status}")
        if update["update_id"] % DUPLICATE_EVERY == 0:
            await hook.post(update)  # a redelivery: must not be applied again


async def _drive(
    ports: list[int], redis: Redis, customers: int, in_flight: int, first_id: int
) -> Stats:
    stats = Stats()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(customers):
        queue.put_nowait(index)
    ids = iter(range(first_id, first_id + 10 * customers * UPDATES_PER_CUSTOMER))

    async def worker() -> None:
        hook = Balancer(ports)
        try:
            while not queue.empty():
                await _walk(queue.get_nowait(), hook, ids, redis, stats)
        finally:
            await hook.close()

    stats.started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    stats.elapsed = time.perf_counter() - stats.started
    return stats


async def _audit(redis: Redis, customers: int) -> tuple[int, int]:
    """(conversations whose applied-update count is wrong: an update lost or applied twice,
    conversations that did not reach the hand-off step)."""
    keys = KeyBuilder()
    miscounted = unfinished = 0
    for index in range(customers):
        uid = FIRST_USER_ID + index
        state = await redis.hgetall(keys.state(ConversationKey(BOT_ID, uid, uid)))
        if int(state.get(b"v", 0)) != UPDATES_PER_CUSTOMER:
            miscounted += 1
        if json.loads(state.get(b"d", b"{}")).get("step") != "password":
            unfinished += 1
    return miscounted, unfinished


async def _wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"bench server exited with {server.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("bench server did not start")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
            return [int(p) for p in listing.read().split()]
    except OSError:
        return []


async def _cpu(servers: list[int], redis: Redis) -> dict[str, float]:
    """CPU seconds so far of the supervisors and their workers, the Redis server and every
    PostgreSQL process."""
    processes = [pid for server in servers for pid in (server, *_children(server))]
    return {
        "workers": sum(cpu_seconds_of(pid) for pid in processes),
        "redis": await redis_cpu_seconds(redis),
        "postgresql": sum(cpu_seconds_of(pid) for pid in pids_named("postgres")),
    }


async def measure(
    where: Place, workers: int, customers: int, in_flight: int, *, machines: int = 1
) -> dict[str, Any]:
    """One run against ``machines`` supervisors of ``workers`` workers each (one Redis, one
    database: what several machines share), the driver balancing the updates over them."""
    ports = [_free_port() for _ in range(machines)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    servers = []
    for port in ports:
        command = [sys.executable, "-m", "bench.server", "--workers", str(workers)]
        command += ["--port", str(port), "--redis-url", where.redis_url]
        command += ["--database-url", where.database_url]
        servers.append(subprocess.Popen(command, cwd=ROOT, env=environment))  # noqa: S603, ASYNC220
    pids = [server.pid for server in servers]
    # The driver reads PINs with as many customers in flight as the run has: a blocking pool
    # waits for a connection instead of failing past redis-py's default 100.
    redis = waiting_client(where.redis_url, max_connections=64)
    try:
        for port, server in zip(ports, servers, strict=True):
            await _wait_ready(port, server)
        await _drive(ports, redis, min(customers, in_flight), in_flight, 1)  # warm every worker
        await _settled(redis)
        await flush(where.redis_url)
        before = await _cpu(pids, redis)
        driver = time.process_time()
        stats = await _drive(ports, redis, customers, in_flight, 1_000_000)
        driver = time.process_time() - driver
        spent = {k: v - before[k] for k, v in (await _cpu(pids, redis)).items()}
        spent["driver"] = driver
        miscounted, unfinished = await _audit(redis, customers)
        children = [child for pid in pids for child in _children(pid)]
        rss = max((peak_rss_of(pid) for pid in children), default=0.0)
        return {
            "stats": stats,
            "bad": miscounted,
            "unfinished": unfinished,
            "rss": rss,
            "cpu": {k: v / stats.updates for k, v in spent.items()},
        }
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            await asyncio.to_thread(server.wait, 30)
        await redis.aclose()
        await flush(where.redis_url)


async def _settled(redis: Redis, seconds: float = 10.0) -> None:
    """Until the workers settled what the warm-up owed: a store flushed under a delivery
    lease still held would hand the next run's first turns to two workers at once."""
    index = KeyBuilder().owed_index()
    deadline = time.monotonic() + seconds
    while await redis.zcard(index) and time.monotonic() < deadline:  # noqa: ASYNC110 - other processes' state: only Redis tells
        await asyncio.sleep(0.05)


def cpu_summary(cpu: dict[str, float]) -> str:
    """Each part's CPU per update, and the updates/s the machine's cores allow at that cost."""
    cores = os.cpu_count() or 1
    parts = ", ".join(f"{name} {seconds * 1e6:.0f} µs" for name, seconds in cpu.items())
    return f"{parts} -> {cores} cores serve at most {cores / sum(cpu.values()):,.0f} updates/s"


async def run(where: Place, customers: int, in_flight: int, max_workers: int) -> dict[str, Any]:
    results = {n: await measure(where, n, customers, in_flight) for n in sorted({1, max_workers})}
    lines = ["", "webhook over loopback HTTP (bench.server: real supervisor + workers):"]
    rates = {}
    for n, result in results.items():
        stats: Stats = result["stats"]
        rates[n] = stats.updates / stats.elapsed
        lines.append(
            f"  {n} worker(s): {rates[n]:,.0f} updates/s, p50 {stats.percentile(0.5) * 1e3:.1f} ms,"
            f" p99 {stats.percentile(0.99) * 1e3:.1f} ms, peak worker RSS {result['rss']:.0f} MB,"
            f" lost or doubled: {result['bad']}, unfinished: {result['unfinished']},"
            f" HTTP failures: {len(stats.failures)}"
        )
    cores = os.cpu_count() or 1
    ceilings = {n: cores / sum(result["cpu"].values()) for n, result in results.items()}
    for n, result in results.items():
        lines.append(f"    CPU per update with {n}: {cpu_summary(result['cpu'])}")
    speedup = rates[max_workers] / rates[1] if max_workers > 1 else 1.0
    ceiling = ceilings[max_workers]
    lines.append(
        f"  {max_workers} workers reach {rates[max_workers] / ceiling:.0%} of that ceiling; the"
        f" speed-up is bounded by it: {ceiling / rates[1]:.2f}x here, while Redis, PostgreSQL"
        " and the driver take their share of the same cores"
    )
    bad = sum(r["bad"] + r["unfinished"] + len(r["stats"].failures) for r in results.values())
    worker_rss = max(r["rss"] for r in results.values())
    return {
        "lines": lines,
        "speedup": speedup,
        "bad": bad,
        "cores": os.cpu_count(),
        "worker_rss": worker_rss,
    }
