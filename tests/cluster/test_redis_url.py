"""``REDIS_URL`` naming a Redis Cluster: a wrong one is one clear line at start (the password
masked), a right one is used as a cluster (the store's client is a RedisCluster)."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

from storage.redis_cluster import parse_cluster_url
from storage.redis_state import RedisStateStore
from tests.test_cli_errors import assert_one_clear_line, onboard

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("redis+cluster://", ["REDIS_URL must be redis+cluster://HOST:PORT", "at least one node"]),
        ("redis+cluster://cache-a:port", ["'cache-a:port' is not HOST:PORT"]),
        ("redis+cluster://u:hunter2@cache-a:7000/2", ["only database 0", "u:***@cache-a"]),
        ("memcached://cache:11211", ["REDIS_URL must be redis://HOST:PORT/DB (one Redis) or"]),
    ],
)
def test_a_wrong_cluster_url_is_one_clear_line(tmp_path: Path, url: str, words: list[str]) -> None:
    result = onboard(tmp_path, "flows", "list", REDIS_URL=url)
    line = assert_one_clear_line(result, 2, *words)
    assert "hunter2" not in line


def test_a_cluster_url_names_its_nodes_and_credentials() -> None:
    where = parse_cluster_url("rediss+cluster://app:s%40cret@10.0.0.1:7000,[::1]:7001")
    assert where.nodes == (("10.0.0.1", 7000), ("::1", 7001))
    assert (where.tls, where.username, where.password) == (True, "app", "s@cret")
    assert where.node_url("10.0.0.2", 7002) == "rediss://app:s%40cret@10.0.0.2:7002/0"


async def test_the_store_of_a_cluster_url_is_a_cluster_client() -> None:
    store = RedisStateStore.from_url("redis+cluster://127.0.0.1:1,127.0.0.1:2", ttl_seconds=60)
    try:
        assert isinstance(store._redis, RedisCluster)
    finally:
        await store.close()
