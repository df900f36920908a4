"""The cluster router follows one slot's migration step by step, as ``redis-cli --cluster
reshard`` does it (``CLUSTER SETSLOT ... IMPORTING/MIGRATING``, ``MIGRATE`` of the slot's keys,
``CLUSTER SETSLOT ... NODE``): a conversation's calls keep working and see its data while
they meet TRYAGAIN (its keys split between the two nodes), ASK (its keys moved, the slot not
yet) and MOVED (the slot handed over)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.crc import key_slot

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, CommitResult, Snapshot
from storage.keys import CLUSTER_BUCKETS, KeyBuilder
from storage.redis_cluster import ClusterRouter
from storage.redis_state import RedisStateStore
from tests.chaos.harness import NEEDS_REDIS_SERVER
from tests.cluster.redis_cluster import Cluster, Node

pytestmark = [pytest.mark.cluster, NEEDS_REDIS_SERVER]
KEY = ConversationKey(bot_id=1, chat_id=777, user_id=777)
KEYS = KeyBuilder(prefix="redirect", buckets=CLUSTER_BUCKETS)


@pytest.fixture
async def store(redis_cluster: Cluster) -> AsyncIterator[RedisStateStore]:
    redis_cluster.flush()
    # recent=0: every begin goes to Redis (none is answered from this process's last commit)
    subject = RedisStateStore.from_url(
        redis_cluster.url, ttl_seconds=60, key_builder=KEYS, recent=0
    )
    try:
        yield subject
    finally:
        await subject.close()
        redis_cluster.flush()


def _owner(cluster: Cluster, slot: int) -> Node:
    with cluster.primaries()[0].client() as client:
        ranges = client.execute_command("CLUSTER", "SLOTS")
    for first, last, primary, *_ in ranges:
        if int(first) <= slot <= int(last):
            return next(node for node in cluster.nodes if node.port == int(primary[1]))
    raise LookupError(slot)


def _migrate(source: Node, target: Node, keys: list[bytes]) -> None:
    with source.client() as client:
        client.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)


def _slot_keys(node: Node, slot: int) -> list[bytes]:
    with node.client() as client:
        return list(client.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100))


async def test_a_conversation_follows_its_slot_from_one_primary_to_another(
    redis_cluster: Cluster, store: RedisStateStore
) -> None:
    items = [("000000000001.000", b"reply")]
    assert await store.commit(KEY, 0, b"first", 1, items) is CommitResult.LEAD
    slot = key_slot(KEYS.state(KEY).encode())
    source = _owner(redis_cluster, slot)
    target = next(p for p in redis_cluster.primaries() if p.port != source.port)
    with target.client() as client:
        client.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source.myid())
    with source.client() as client:
        client.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.myid())
    assert await store.begin(KEY, 2) == Snapshot(b"first", 1)  # all its keys still here

    keys = _slot_keys(source, slot)
    seen = [k for k in keys if k.endswith(b":seen")]
    _migrate(source, target, seen)  # the conversation's keys now split between the two nodes

    async def finish_the_migration() -> None:
        await asyncio.sleep(0.1)
        _migrate(source, target, _slot_keys(source, slot))

    # TRYAGAIN until the rest has moved, then ASK: the call sees the moved data.
    begun, _ = await asyncio.gather(store.begin(KEY, 2), finish_the_migration())
    assert begun == Snapshot(b"first", 1)
    assert await store.commit(KEY, 1, b"second", 2, [("000000000002.000", b"r")]) is (
        CommitResult.QUEUED
    )
    assert await store.begin(KEY, 2) == DUPLICATE

    for node in redis_cluster.primaries():  # the slot is the target's now
        with node.client() as client:
            client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target.myid())
    redis_cluster.wait_ok()
    assert await store.begin(KEY, 3) == Snapshot(b"second", 2)  # MOVED, then the target
    assert await store.settle(KEY, ["000000000001.000"]) == [("000000000002.000", b"r")]
    router = store._router
    assert isinstance(router, ClusterRouter)
    print(f"one slot migrated under a conversation: the router followed {dict(router.followed)}")
    assert router.followed["tryagain"] >= 1
    assert router.followed["ask"] >= 2
    assert router.followed["moved"] >= 1
