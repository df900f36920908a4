"""A real Redis Cluster on loopback, started by the tests: ``redis-server --cluster-enabled yes``
on free ports (3 primaries, optionally one replica each), joined by ``redis-cli --cluster
create``, ready once every node says ``cluster_state:ok`` and agrees on who owns every slot.
Stopped (SIGTERM, then SIGKILL) and its directory removed afterwards.

Also what the tests do to it while customers walk: move slots (``redis-cli --cluster reshard``)
and fail a primary over to its replica (``CLUSTER FAILOVER`` on the replica)."""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

NODE_TIMEOUT_MS = 1000  # how soon a dead primary is replaced by its replica


@dataclass
class Node:
    port: int
    process: subprocess.Popen[bytes]

    def client(self) -> Redis:
        return Redis(host="127.0.0.1", port=self.port, socket_timeout=10)

    def info(self, what: str) -> dict[str, str]:
        with self.client() as client:
            raw = client.execute_command("CLUSTER", what.upper())
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def myid(self) -> str:
        with self.client() as client:
            return str(client.execute_command("CLUSTER", "MYID").decode())

    def role(self) -> str:
        with self.client() as client:
            return str(client.execute_command("ROLE")[0].decode())


@dataclass
class Cluster:
    home: Path
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The REDIS_URL of the bot: two of the nodes, the rest found through them."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:2])

    def primaries(self) -> list[Node]:
        return [node for node in self.nodes if node.role() == "master"]

    def replica_of(self, primary: Node) -> Node:
        wanted = primary.myid()
        for node in self.nodes:
            with node.client() as client:
                line = client.execute_command("CLUSTER", "NODES").decode()
            me = next(row for row in line.splitlines() if "myself" in row).split()
            if "slave" in me[2] and me[3] == wanted:
                return node
        raise LookupError(f"no replica of 127.0.0.1:{primary.port}")

    def flush(self) -> None:
        """Every primary's keys gone (the session's cluster, between tests)."""
        for primary in self.primaries():
            with primary.client() as client:
                client.flushall()

    def wait_ok(self, seconds: float = 30) -> None:
        """Until every live node reports ``cluster_state:ok`` and all see the same slots."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                live = [node for node in self.nodes if node.process.poll() is None]
                states = {node.info("info").get("cluster_state") for node in live}
                if states == {"ok"} and len({_owners(node) for node in live}) == 1:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the cluster is not ok after {seconds:.0f} s")

    def reshard(self, source: Node, target: Node, slots: int) -> str:
        """Move ``slots`` slots (and their keys) from ``source`` to ``target``."""
        command = ["redis-cli", "--cluster", "reshard", f"127.0.0.1:{source.port}"]
        command += ["--cluster-from", source.myid(), "--cluster-to", target.myid()]
        command += ["--cluster-slots", str(slots), "--cluster-yes", "--cluster-pipeline", "20"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"reshard failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        return done.stdout

    def failover(self, primary: Node, seconds: float = 30) -> Node:
        """``CLUSTER FAILOVER`` on ``primary``'s replica; returns the new primary, once the
        cluster agrees on it."""
        replica = self.replica_of(primary)
        with replica.client() as client:
            client.execute_command("CLUSTER", "FAILOVER")
        deadline = time.monotonic() + seconds
        while replica.role() != "master":
            if time.monotonic() > deadline:
                raise RuntimeError("the replica was not promoted")
            time.sleep(0.05)
        self.wait_ok(seconds)
        return replica

    def kill(self, primary: Node, seconds: float = 30) -> Node:
        """SIGKILL ``primary``; once its replica took over (after the node timeout), start
        it again on its port and files (it rejoins as the new primary's replica). Returns the
        new primary."""
        replica = self.replica_of(primary)
        primary.process.kill()
        primary.process.wait(10)
        deadline = time.monotonic() + seconds
        while replica.role() != "master":
            if time.monotonic() > deadline:
                raise RuntimeError("the replica was not promoted")
            time.sleep(0.05)
        self.wait_ok(seconds)
        self.nodes[self.nodes.index(primary)] = _start_node(self.home, primary.port)
        self.wait_ok(seconds)
        return replica


def _owners(node: Node) -> tuple[tuple[int, int, int], ...]:
    with node.client() as client:
        slots = client.execute_command("CLUSTER", "SLOTS")
    return tuple(sorted((int(s[0]), int(s[1]), int(s[2][1])) for s in slots))


@contextlib.contextmanager
def redis_cluster(replicas: int = 0, primaries: int = 3) -> Iterator[Cluster]:
    """A cluster of ``primaries`` primaries with ``replicas`` replicas each."""
    home = Path(tempfile.mkdtemp(prefix="onboard-redis-cluster-"))
    cluster = Cluster(home)
    try:
        for _ in range(primaries * (1 + replicas)):
            cluster.nodes.append(_start_node(home, _free_node_port()))
        command = ["redis-cli", "--cluster", "create"]
        command += [f"127.0.0.1:{node.port}" for node in cluster.nodes]
        command += ["--cluster-replicas", str(replicas), "--cluster-yes"]
        created = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if created.returncode != 0:
            raise RuntimeError(f"cluster create failed: {created.stdout} {created.stderr}")
        cluster.wait_ok()
        yield cluster
    finally:
        for node in cluster.nodes:
            _stop(node.process)
        shutil.rmtree(home, ignore_errors=True)


def _free_node_port() -> int:
    """A free port P whose cluster bus port P + 10000 is free too (so below 55536)."""
    for _ in range(1000):
        port = random.randint(20000, 45000)
        try:
            for probe in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", probe))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def _start_node(home: Path, port: int) -> Node:
    data = home / str(port)
    data.mkdir(exist_ok=True)
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--cluster-enabled", "yes", "--cluster-config-file", str(data / "nodes.conf")]
    command += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--dir", str(data)]
    command += ["--appendonly", "yes", "--save", "", "--logfile", str(data / "redis.log")]
    process = subprocess.Popen(command)
    node = Node(port, process)
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        with contextlib.suppress(Exception), node.client() as client:
            client.ping()
            return node
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not start on {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
