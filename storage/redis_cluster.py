"""Redis Cluster: the ``redis+cluster://`` URL, clients for either kind of URL, and the router
that sends each script call to the primary holding its slot.

``REDIS_URL=redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]`` (``rediss+cluster://``
with TLS) names a cluster by some of its nodes; the rest of the topology is read from them
(``CLUSTER SLOTS``, by redis-py's :class:`~redis.asyncio.cluster.RedisCluster`, which also
serves the maintenance commands: SCAN, DEL, purges). A cluster has only database 0.

The update's path does not go through :class:`RedisCluster` (one command per call, its own
retry loop): :class:`ClusterRouter` keeps pipelined lanes per primary and follows the cluster:

* ``MOVED``: the slot has a new owner (a reshard finished, a failover): the slot map is
  patched (redis-py's ``move_slot``) and the call sent there;
* ``ASK``: the slot is being migrated and the keys are already on the target: ``ASKING`` and
  the call, once, on the target (the map is not changed);
* ``TRYAGAIN``: the slot is being migrated and the script's keys are split between the two
  nodes: sent again every 20 ms, for up to 3 s (until the rest of its keys have moved);
* a connection error or ``CLUSTERDOWN`` (a primary died, its replica not yet promoted): the
  topology is read again and the call retried after a backoff, for a few seconds at most.

None of these ran the script (a script runs whole or not at all), so sending it again is safe;
a connection error is the exception (the reply may be lost after the script ran): as on one
Redis, a commit that did land reads as a conflict and the turn then finds its update seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import Connection, SSLConnection
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MasterDownError,
    MovedError,
    RedisError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from storage.redis_lane import Lane, Router, SingleRouter, waiting_client
from storage.redis_scripts import Script

log = logging.getLogger(__name__)
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
REDIRECTS = 16  # MOVED/ASK answers followed for one call (redis-py's TTL too)
TRY_AGAIN_SECONDS = 0.02
# TRYAGAIN lasts while a slot's keys move: the longer, the more keys one MIGRATE batch of the
# reshard leaves behind (``redis-cli --cluster reshard --cluster-pipeline``)
TRY_AGAIN_FOR_SECONDS = 3.0
BACKOFF = (0.05, 0.2, 0.5, 1.0, 1.5, 2.0)  # ~5 s: a replica's promotion, at node timeout 1-2 s
Unreachable = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    ClusterDownError,
    MasterDownError,
    SlotNotCoveredError,
)


@dataclass(frozen=True)
class ClusterUrl:
    nodes: tuple[tuple[str, int], ...]
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def node_url(self, host: str, port: int) -> str:
        """A plain URL of one node (with the cluster's credentials and TLS)."""
        auth = ""
        if self.password is not None:
            auth = f"{quote(self.username or '', safe='')}:{quote(self.password, safe='')}@"
        shown = f"[{host}]" if ":" in host else host
        return f"{'rediss' if self.tls else 'redis'}://{auth}{shown}:{port}/0"


def check_redis_url(url: str) -> None:
    """A ValueError (one line, saying what is wrong) unless ``url`` names a Redis or a
    Redis Cluster."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in CLUSTER_SCHEMES:
        try:
            parse_cluster_url(url)
        except ValueError as exc:
            raise ValueError(f"must be redis+cluster://HOST:PORT[,HOST:PORT...] ({exc})") from None
    elif scheme not in ("redis", "rediss", "unix"):
        raise ValueError(
            "must be redis://HOST:PORT/DB (one Redis) or redis+cluster://HOST:PORT[,HOST:PORT...]"
            " (a Redis Cluster)"
        )


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def parse_cluster_url(url: str) -> ClusterUrl:
    """``redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...][/0]``; a ValueError saying
    what is wrong otherwise."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in CLUSTER_SCHEMES:
        raise ValueError(f"a cluster URL starts with {' or '.join(CLUSTER_SCHEMES)}://")
    parts = urlsplit(f"//{rest}")
    if parts.path not in ("", "/", "/0") or parts.query:
        raise ValueError("a Redis Cluster has only database 0 and takes no options")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    nodes = tuple(_node(part) for part in hosts.split(",") if part.strip())
    if not nodes:
        raise ValueError("name at least one node: redis+cluster://HOST:PORT[,HOST:PORT]")
    return ClusterUrl(
        nodes,
        tls=scheme.lower().startswith("rediss"),
        username=unquote(username) or None,
        password=unquote(password) if userinfo else None,
    )


def _node(text: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text.strip()!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def open_client(url: str, max_connections: int, **options: Any) -> Redis | RedisCluster:
    """A client for ``url``: :func:`~storage.redis_lane.waiting_client` for one Redis, a
    :class:`RedisCluster` for a ``redis+cluster://`` URL."""
    if not is_cluster_url(url):
        if options:
            return Redis.from_url(url, **options)
        return waiting_client(url, max_connections)
    where = parse_cluster_url(url)
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in where.nodes],
        username=where.username,
        password=where.password,
        ssl=where.tls,
        max_connections=max_connections,
        **options,
    )


def router_for(redis: Redis | RedisCluster, lanes: int) -> Router:
    """The router of a client: lanes per primary for a cluster, else lanes of one server."""
    if isinstance(redis, RedisCluster):
        return ClusterRouter(redis, lanes)
    return SingleRouter(redis, lanes)


class ClusterRouter:
    """Script calls to the primary of their keys' slot, over ``lanes`` lanes per primary
    (see the module docstring for how it follows MOVED, ASK, TRYAGAIN and failovers)."""

    def __init__(self, cluster: RedisCluster, lanes: int = 1, max_connections: int = 16) -> None:
        self._cluster = cluster
        self._per_node = max(1, lanes)
        self._max_connections = max_connections
        self._nodes: dict[str, tuple[Redis, list[Lane]]] = {}
        self._lock = asyncio.Lock()
        self._ready = False
        self._refreshes = 0
        self.followed: Counter[str] = Counter()  # moved, ask, tryagain, unreachable

    async def script(
        self, script: Script, keys: list[str], *args: bytes | str | int, spread: int = 0
    ) -> Any:
        slot = key_slot(keys[0].encode())
        asking: str | None = None
        redirects = failures = 0
        give_up = asyncio.get_running_loop().time() + TRY_AGAIN_FOR_SECONDS
        while True:
            try:
                node = asking or await self._owner(slot)
                lane = self._lane(node, spread)
                return await lane.script(script, keys, *args, asking=asking is not None)
            except MovedError as moved:  # before AskError: MovedError is one
                self.followed["moved"] += 1
                asking = None
                await self._moved(moved)
                redirects += 1
            except AskError as ask:
                self.followed["ask"] += 1
                asking = f"{ask.host}:{ask.port}"
                redirects += 1
            except TryAgainError:
                if asyncio.get_running_loop().time() > give_up:
                    raise
                self.followed["tryagain"] += 1
                asking = None
                await asyncio.sleep(TRY_AGAIN_SECONDS)
            except Unreachable as exc:
                if failures >= len(BACKOFF):
                    raise
                self.followed["unreachable"] += 1
                asking = None
                await asyncio.sleep(BACKOFF[failures])
                failures += 1
                await self._refresh(f"slot {slot} unreachable ({type(exc).__name__})")
            if redirects > REDIRECTS:
                raise ClusterDownError(f"slot {slot}: more than {REDIRECTS} redirections")

    async def _owner(self, slot: int) -> str:
        if not self._ready:
            async with self._lock:
                if not self._ready:
                    await self._cluster.initialize()
                    self._ready = True
        return str(self._cluster.nodes_manager.get_node_from_slot(slot).name)

    async def _moved(self, moved: MovedError) -> None:
        """Patch the slot map (the first call told of a new owner logs it)."""
        known = self._cluster.nodes_manager.slots_cache.get(moved.slot_id)
        owner = f"{moved.host}:{moved.port}"
        if not known or known[0].name != owner:
            log.info("Redis Cluster: slot %d moved to %s", moved.slot_id, owner)
            await self._cluster.nodes_manager.move_slot(moved)

    async def _refresh(self, why: str) -> None:
        """Read the topology again (once for all the calls that failed meanwhile)."""
        seen = self._refreshes
        async with self._lock:
            if seen != self._refreshes:
                return
            self._refreshes += 1
            log.warning("Redis Cluster: %s, reading the topology again", why)
            try:
                await self._cluster.nodes_manager.initialize()
                self._ready = True
            except (RedisError, OSError):
                pass  # nothing reachable yet: the next attempt fails and backs off again

    def _lane(self, node: str, spread: int) -> Lane:
        found = self._nodes.get(node)
        if found is None:
            host, _, port = node.rpartition(":")
            url = self._node_url(host, int(port))
            client = waiting_client(url, self._max_connections)
            found = self._nodes[node] = (client, [Lane(client) for _ in range(self._per_node)])
        lanes = found[1]
        return lanes[spread % len(lanes)]

    def _node_url(self, host: str, port: int) -> str:
        kwargs = self._cluster.nodes_manager.connection_kwargs
        where = ClusterUrl(
            ((host, port),),
            tls=issubclass(kwargs.get("connection_class", Connection), SSLConnection),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
        )
        return where.node_url(host, port)

    async def close(self) -> None:
        for client, lanes in self._nodes.values():
            for lane in lanes:
                await lane.close()
            await client.aclose()
        self._nodes.clear()
