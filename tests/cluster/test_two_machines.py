"""Two machines behind a load balancer: nginx (Debian's, on a free port) balances Telegram's
webhook round-robin over two ``onboard run --webhook --workers 2`` supervisors sharing one
Redis and one PostgreSQL database. Customers walk the bg flow with every update delivered
twice (the copies race each other, usually on different machines); the chaos harness's audit
counts what was lost and what was applied twice (see ``tests/chaos/__init__.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from pathlib import Path

import pytest

from tests.chaos.harness import (
    NEEDS_REDIS_SERVER,
    WEBHOOK_PATH,
    Bot,
    Customer,
    RedisServer,
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
from tests.cluster.servers import machine_of, nginx, pgbouncer
from tests.delivery.servers import Mailbox

pytestmark = [pytest.mark.cluster, NEEDS_REDIS_SERVER]
CUSTOMERS = 20
WALKS_SECONDS = 90.0


async def test_two_machines_behind_nginx_lose_nothing_and_apply_nothing_twice(
    tmp_path: Path,
) -> None:
    async with stage(tmp_path) as on, pgbouncer(pool_size=8) as bouncer:
        api, redis, mailbox = on.api, on.redis, on.mailbox
        # machine A reaches PostgreSQL directly, machine B through PgBouncer
        pooled_url = on.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{bouncer}")
        envs = [
            bot_env(api, redis, on.database_url, mailbox.port),
            bot_env(api, redis, pooled_url, mailbox.port),
        ]
        envs[1]["DATABASE_POOLING"] = "transaction"
        names = {int(env["PORT"]): name for env, name in zip(envs, "AB", strict=True)}
        async with nginx(list(names), WEBHOOK_PATH) as balancer:
            url = f"http://127.0.0.1:{balancer.port}{WEBHOOK_PATH}"
            machines = []
            for env, name in zip(envs, "AB", strict=True):
                env.update(WEBHOOK_URL=url, FORWARDED_ALLOW_IPS="127.0.0.1")
                home = tmp_path / f"machine-{name}"
                home.mkdir()
                machines.append(Bot(env, home))
            loaded = machines[0].onboard(
                "crm", "load", str(write_crm(tmp_path / "crm.yaml", CUSTOMERS))
            )
            assert loaded.returncode == 0, loaded.stdout + loaded.stderr
            try:
                for machine in machines:
                    await machine.start(api)
                telegram = Telegram(api, url, on.session)
                tally, split = await _walk_and_audit(telegram, mailbox, redis, machines)
            finally:
                for machine in machines:
                    await machine.stop()
            counts = {machine_of(u, names): n for u, n in balancer.split(WEBHOOK_PATH).items()}
    for line in tally.lines():
        print(line)
    print(f"two machines: webhook POSTs per machine {dict(sorted(counts.items()))}; {split}")
    assert tally.problems() == [], "\n".join(tally.lines())
    assert tally.applied == tally.updates_sent
    assert set(counts) == {"A", "B"}
    assert min(counts.values()) >= sum(counts.values()) // 4  # round-robin: both really work


async def _walk_and_audit(
    telegram: Telegram, mailbox: Mailbox, redis: RedisServer, machines: list[Bot]
) -> tuple[Tally, str]:
    people = [Customer(i) for i in range(CUSTOMERS)]
    think = random.Random(15)
    started = time.monotonic()
    walks = asyncio.ensure_future(
        asyncio.gather(*(walk(c, telegram, mailbox, think) for c in people))
    )
    await asyncio.wait({walks}, timeout=WALKS_SECONDS)
    walks.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await walks
    for _ in range(200):  # what is owed gets 10 s more to arrive
        if all(_settled(c, telegram, mailbox) for c in people):
            break
        await asyncio.sleep(0.05)
    took = time.monotonic() - started
    for machine in machines:
        await machine.stop()
    states = await conversation_states(redis.url)
    tally = audit("two machines", people, telegram, mailbox, states)
    tally.chaos = "none (two supervisors behind nginx, every update delivered twice)"
    return tally, f"walks took {took:.1f} s"
