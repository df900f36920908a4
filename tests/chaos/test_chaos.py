"""Chaos under load (issue 14): customers walk the bg flow through ``onboard run --webhook
--workers 2`` while workers are SIGKILLed, Redis is restarted, PostgreSQL connections are cut.
What is counted, and how, is in ``tests/chaos/__init__.py``."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from tests.chaos.harness import (
    NEEDS_REDIS_SERVER,
    PG_ADMIN_DSN,
    Scene,
    Tally,
    cut_postgres,
    pid_of_socket,
    run_scenario,
)

pytestmark = [pytest.mark.chaos, NEEDS_REDIS_SERVER]

# The supervisor restarts a dead worker, but gives up after 5 restarts within a minute.
KILLS = 5
REDIS_RESTARTS = 4


async def _pause(done: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless the walks end first; True when they did."""
    try:
        await asyncio.wait_for(done.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _first(*events: asyncio.Event) -> None:
    """Until one of ``events`` is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def kill_workers(scene: Scene, done: asyncio.Event) -> str:
    """SIGKILL a worker at random moments while updates are in flight. Every other kill hits
    the worker that is about to send a reply: the next ``sendMessage`` after a random pause is
    dropped and its sender killed, as if it had died a moment before (between the turn's
    commit and what the turn owes). The others hit one of the two workers at a random instant
    inside the traffic."""
    chance = random.Random(1401)
    kills: list[str] = []
    armed, struck = asyncio.Event(), asyncio.Event()

    def at_send(method: str, port: int) -> bool:
        if not armed.is_set() or method.lower() != "sendmessage":
            return False
        pid = pid_of_socket(port, scene.bot.worker_pids())
        if pid is None:
            return False
        armed.clear()
        os.kill(pid, signal.SIGKILL)
        kills.append("sending")
        struck.set()
        return True

    scene.api.before_answer = at_send
    try:
        while len(kills) < KILLS and not await _pause(done, chance.uniform(1.5, 3.5)):
            await scene.bot.wait_workers()
            if len(kills) % 2 == 0:
                struck.clear()
                armed.set()
                await _first(struck, done)
                continue
            for _ in range(2000):  # until updates are in flight
                if scene.telegram.in_flight >= 2:
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(chance.uniform(0, 0.004))
            pids = scene.bot.worker_pids()
            if pids:
                os.kill(chance.choice(pids), signal.SIGKILL)
                kills.append("random")
    finally:
        scene.api.before_answer = None
        armed.clear()
    counted = Counter(kills)
    return (
        f"{len(kills)} workers SIGKILLed ({counted['sending']} while sending a reply,"
        f" {counted['random']} at a random instant)"
    )


async def restart_redis(scene: Scene, done: asyncio.Event) -> str:
    """Stop Redis (SIGTERM; AOF, fsync always) for 1–2.5 s and start it on the same port."""
    chance = random.Random(1402)
    while scene.redis.restarts < REDIS_RESTARTS and not await _pause(
        done, chance.uniform(2.0, 4.0)
    ):
        await scene.redis.restart(down=chance.uniform(1.0, 2.5))
    return f"Redis stopped and started {scene.redis.restarts} times"


async def cut_database(scene: Scene, done: asyncio.Event) -> str:
    """Every 0.3–1 s, ``pg_terminate_backend`` on every connection of the bot's database, at
    a moment when one of them is inside a query or transaction if that comes within 0.3 s."""
    chance = random.Random(1403)
    cuts = connections = 0
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        while not await _pause(done, chance.uniform(0.3, 1.0)):
            connections += await cut_postgres(admin, scene.database, busy_within=0.3)
            cuts += 1
    finally:
        await admin.close()
    return f"PostgreSQL cut {cuts} times ({connections} connections terminated)"


def _check(tally: Tally) -> None:
    assert not tally.problems(), f"{tally.scenario}: " + "; ".join(tally.problems())


async def test_workers_killed_mid_turn(tmp_path: Path) -> None:
    _check(await run_scenario("SIGKILL workers", tmp_path, kill_workers))


async def test_redis_stopped_and_started(tmp_path: Path) -> None:
    _check(await run_scenario("Redis restarts", tmp_path, restart_redis))


async def test_postgresql_connections_cut(tmp_path: Path) -> None:
    _check(await run_scenario("PostgreSQL cuts", tmp_path, cut_database))
