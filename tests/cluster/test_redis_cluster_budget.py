"""The Redis budget on a Redis Cluster: the state store's calls are one round trip each to the
primary of the conversation's slot, and a Telegram update through the whole bot costs at most
2 (1 when it starts from this process's last commit), as on one Redis
(tests/bot/test_redis_budget.py, tests/storage/test_redis_round_trips.py).

Counted on the wire: every command, pipelined or not, leaves through ``send_packed_command``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from redis.asyncio.connection import Connection

from bot.outbox import IN_BACKGROUND
from dialogs.events import ConversationKey
from storage.keys import KeyBuilder
from storage.redis_scripts import BEGIN, CLAIM, COMMIT, RENEW, SETTLE_MANY
from storage.redis_state import RedisStateStore
from tests.bot.harness import running_bot
from tests.chaos.harness import NEEDS_REDIS_SERVER
from tests.cluster.redis_cluster import Cluster
from tests.conftest import make_settings

pytestmark = [pytest.mark.cluster, NEEDS_REDIS_SERVER]


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """[sent on an update's path, sent in the dispatcher's background tasks]."""
    sent = [0, 0]
    original = Connection.send_packed_command

    async def counting(
        self: Connection, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        sent[1 if IN_BACKGROUND.get() or _dispatchers(command) else 0] += 1
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    return sent


def _dispatchers(command: bytes | str | Iterable[bytes]) -> bool:
    """Only the dispatcher's scripts (settle, claim, renew) in this write: a lane's batch is
    sent by whichever task started the lane's drain, so a settle that joins a batch begun by
    an update's call would be counted on the update's path (it waits for none of it)."""
    if isinstance(command, str):
        wire = command.encode()
    else:
        wire = command if isinstance(command, bytes) else b"".join(command)
    update = any(script.sha.encode() in wire for script in (BEGIN, COMMIT))
    return not update and any(s.sha.encode() in wire for s in (SETTLE_MANY, CLAIM, RENEW))


async def test_begin_and_commit_are_one_round_trip_each_on_a_cluster(
    redis_cluster: Cluster, wire: list[int]
) -> None:
    keys = KeyBuilder(prefix="budget")
    # (recent=0: every begin reads; one answered from this process's last commit is none)
    store = RedisStateStore.from_url(redis_cluster.url, ttl_seconds=60, key_builder=keys, recent=0)
    people = [ConversationKey(bot_id=1, chat_id=n, user_id=n) for n in range(1, 31)]
    try:
        for key in people:  # warm-up: topology, a connection to every primary, scripts loaded
            assert await store.commit(key, 0, b"warm", 1, [("000000000001.000", b"r")])
            await store.begin(key, 1)
            await store.settle(key, ["000000000001.000"])
        counts = []
        for key in people:
            before = wire[0]
            snapshot = await store.begin(key, 2)
            between = wire[0]
            await store.commit(key, snapshot.version, b"next", 2, [("000000000002.000", b"r")])
            counts.append((between - before, wire[0] - between))
    finally:
        await store.close()
    print(f"cluster store: round trips (begin, commit) per update: {sorted(set(counts))}")
    assert set(counts) == {(1, 1)}


async def test_at_most_two_round_trips_per_update_through_the_bot_on_a_cluster(
    tmp_path: Path, redis_cluster: Cluster, wire: list[int]
) -> None:
    async with running_bot(make_settings(tmp_path, redis_url=redis_cluster.url)) as bot:
        alice = bot.customer()
        await alice.send("/start")  # warm-up: topology, connections, scripts loaded
        per_update = []
        for answer in ["12345", "175074752", "x@", "demo@example.com", "/help", "/back"]:
            before = wire[0]
            await alice.send(answer)
            per_update.append(wire[0] - before)
        duplicate = bot.api.text(alice.user_id, "again")
        await alice.deliver(duplicate)
        before = wire[0]
        await bot.transport.process_json(duplicate)  # redelivered (as a webhook retry would)
        per_update.append(wire[0] - before)
    print(f"cluster: Redis round trips per update through the bot: {per_update}")
    # As on one Redis: the turn starts from the state this process committed last
    # (storage/recent.py) and the commit checks it; the redelivered duplicate is known here.
    assert per_update == [1, 1, 1, 1, 1, 1, 0]
