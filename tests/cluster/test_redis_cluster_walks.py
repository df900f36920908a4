"""Customers walk the bg flow through ``onboard run --webhook --workers 2`` on a real Redis
Cluster (3 primaries with a replica each, ``REDIS_URL=redis+cluster://``) while the cluster
changes under them: slots (with the conversations in them) are moved between primaries by
``redis-cli --cluster reshard`` and primaries fail over to their replicas (``CLUSTER
FAILOVER``). Every update is delivered twice; the chaos harness's audit counts what was lost
and what was applied twice (see ``tests/chaos/__init__.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from tests.chaos.harness import (
    NEEDS_REDIS_SERVER,
    Bot,
    Customer,
    Tally,
    Telegram,
    _settled,
    audit,
    bot_env,
    conversation_states,
    stage,
    walk,
    write_crm,
)
from tests.cluster.redis_cluster import Cluster, Node
from tests.delivery.servers import Mailbox

pytestmark = [pytest.mark.cluster, NEEDS_REDIS_SERVER]
CUSTOMERS = 20
WALKS_SECONDS = 120.0
RESHARD_SLOTS = 3000


async def test_customers_walk_while_slots_move_and_primaries_fail_over(
    tmp_path: Path, redis_cluster: Cluster
) -> None:
    redis_cluster.flush()  # only this walk's conversations, counted below
    async with stage(tmp_path) as on:
        env = bot_env(on.api, on.redis, on.database_url, on.mailbox.port)
        env.update(REDIS_URL=redis_cluster.url, LOG_LEVEL="INFO")  # INFO: the redirects
        bot = Bot(env, tmp_path)
        loaded = bot.onboard("crm", "load", str(write_crm(tmp_path / "crm.yaml", CUSTOMERS)))
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        await bot.start(on.api)
        telegram = Telegram(on.api, env["WEBHOOK_URL"], on.session)
        owners_before = _slot_owners(redis_cluster)
        try:
            tally, changes = await _walk_with_changes(telegram, on.mailbox, redis_cluster)
        finally:
            await bot.stop()
        followed = _followed(bot)
        states, moved = await _states_and_moved(redis_cluster, owners_before)
        tally = _audited(tally, states, changes, moved)
        tally.chaos += f"; the bot followed {followed}"
    for line in tally.lines():
        print(line)
    assert tally.problems() == [], "\n".join(tally.lines())
    assert tally.applied == tally.updates_sent
    assert moved > 0, "no conversation's slot changed owner: the test proved nothing"


async def _walk_with_changes(
    telegram: Telegram, mailbox: Mailbox, cluster: Cluster
) -> tuple[tuple[list[Customer], Telegram, Mailbox], list[str]]:
    people = [Customer(i) for i in range(CUSTOMERS)]
    think = random.Random(15)
    walks = asyncio.ensure_future(
        asyncio.gather(*(walk(c, telegram, mailbox, think) for c in people))
    )
    changes = asyncio.create_task(asyncio.to_thread(_change_the_cluster, cluster, walks))
    await asyncio.wait({walks}, timeout=WALKS_SECONDS)
    walks.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await walks
    done = await changes
    for _ in range(200):  # what is owed gets 10 s more to arrive
        if all(_settled(c, telegram, mailbox) for c in people):
            break
        await asyncio.sleep(0.05)
    return (people, telegram, mailbox), done


def _change_the_cluster(cluster: Cluster, walks: asyncio.Future[object]) -> list[str]:
    """Reshard, fail over, kill a primary, reshard... while the customers walk (at least one
    of each): what was done, with how long it took."""
    done: list[str] = []
    time.sleep(4)  # the first customers are in their walk
    step = 0
    while not walks.done() or step < 3:
        started = time.monotonic()
        primaries = cluster.primaries()
        turn = step // 3
        if step % 3 == 0:
            source, target = primaries[turn % 3], primaries[(turn + 1) % 3]
            cluster.reshard(source, target, RESHARD_SLOTS)
            what = f"reshard {RESHARD_SLOTS} slots :{source.port} -> :{target.port}"
        elif step % 3 == 1:
            old = primaries[(turn + 1) % 3]
            new = cluster.failover(old)
            what = f"failover :{old.port} -> :{new.port}"
        else:
            old = primaries[(turn + 2) % 3]
            new = cluster.kill(old)
            what = f"primary :{old.port} killed, :{new.port} took over"
        done.append(f"{what} ({time.monotonic() - started:.1f} s)")
        step += 1
        time.sleep(1)
    return done


def _followed(bot: Bot) -> str:
    """What the bot's cluster routers logged: slots seen moving (MOVED), topology re-read
    after a primary was unreachable (each process, each router)."""
    text = bot.log.read_text(errors="replace") if bot.log else ""
    moved = len(re.findall(r"Redis Cluster: slot \d+ moved", text))
    refreshed = text.count("reading the topology again")
    return f"{moved} slot moves (MOVED), {refreshed} topology re-reads (primary unreachable)"


def _slot_owners(cluster: Cluster) -> dict[int, str]:
    """slot -> the id of the primary holding it."""
    owners: dict[int, str] = {}
    for primary in cluster.primaries():
        with primary.client() as client:
            for first, last, *nodes in client.execute_command("CLUSTER", "SLOTS"):
                for slot in range(int(first), int(last) + 1):
                    owners[slot] = nodes[0][2].decode()
    return owners


async def _states_and_moved(
    cluster: Cluster, before: dict[int, str]
) -> tuple[dict[int, dict[str, object]], int]:
    """The conversations' states (every primary's) and how many of them now live on another
    primary than when the walks began."""
    after = _slot_owners(cluster)
    states: dict[int, dict[str, object]] = {}
    moved = 0
    for primary in cluster.primaries():
        url = f"redis://127.0.0.1:{primary.port}/0"
        states.update(await conversation_states(url))
        moved += await _moved_here(primary, before, after)
    return states, moved


async def _moved_here(primary: Node, before: dict[int, str], after: dict[int, str]) -> int:
    client: Redis = Redis(host="127.0.0.1", port=primary.port)
    try:
        names = [key async for key in client.scan_iter(match="ob:{b*}:*:conv", count=1000)]
    finally:
        await client.aclose()
    return sum(1 for name in names if before[key_slot(name)] != after[key_slot(name)])


def _audited(
    walked: tuple[list[Customer], Telegram, Mailbox],
    states: dict[int, dict[str, object]],
    changes: list[str],
    moved: int,
) -> Tally:
    people, telegram, mailbox = walked
    tally = audit("redis cluster", people, telegram, mailbox, states)
    tally.chaos = "; ".join(changes) + f"; conversations now on another primary: {moved}"
    return tally
