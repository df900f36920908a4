"""The engines a company runs in front of several machines, started by the tests on free
loopback ports: Debian's PgBouncer and nginx (``make servers`` installs them). Each server
runs in the foreground as a child of the test, with its files in a directory of its own, and
is stopped (SIGTERM, then SIGKILL) when the test ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chaos.harness import free_port

POSTGRES = ("127.0.0.1", 5432)


def need(program: str) -> str:
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.fail(f"{program} is not installed: run `make servers` (Debian's package)")
    return found


def _home(prefix: str) -> Path:
    """A directory of the server's own, readable by the user it drops to (PgBouncer)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)
    return home


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


async def _listening(port: int, process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    for _ in range(int(seconds * 20)):
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


async def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)


@contextlib.asynccontextmanager
async def pgbouncer(pool_size: int = 4) -> AsyncIterator[int]:
    """PgBouncer in ``pool_mode = transaction`` in front of PostgreSQL (every database, as
    user postgres, trust auth); yields its port. Its server pool is small (``pool_size`` per
    database), so the clients' transactions really are spread over shared server
    connections. PgBouncer refuses to run as root: as root it drops to user postgres."""
    program = need("pgbouncer")
    port = free_port()
    home = _home("onboard-pgbouncer-")
    config = _write(
        home / "pgbouncer.ini",
        f"""[databases]
* = host={POSTGRES[0]} port={POSTGRES[1]} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
server_reset_query =
""",
    )
    command = [program, *(["-u", "postgres"] if os.geteuid() == 0 else []), str(config)]
    log = (home / "out.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    try:
        await _listening(port, process)
        yield port
    finally:
        await _stop(process)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Nginx:
    port: int
    access_log: Path

    def split(self, path: str) -> Counter[str]:
        """How many requests for ``path`` each upstream answered (from the access log)."""
        counts: Counter[str] = Counter()
        for line in self.access_log.read_text(encoding="utf-8", errors="replace").splitlines():
            request, _, upstream = line.partition(" ")
            if request == path:
                counts[upstream.split(",")[-1].strip()] += 1
        return counts


@contextlib.asynccontextmanager
async def nginx(upstreams: Sequence[int], path: str) -> AsyncIterator[Nginx]:
    """nginx balancing ``path`` round-robin over ``upstreams`` (loopback ports), passing the
    client's address in X-Forwarded-For as a load balancer does; yields it once it listens."""
    program = need("nginx")
    port = free_port()
    home = _home("onboard-nginx-")
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=0;" for p in upstreams)
    user = "user root;" if os.geteuid() == 0 else ""
    _write(
        home / "nginx.conf",
        f"""{user}
worker_processes 1;
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  client_body_temp_path {home}/body;
  proxy_temp_path {home}/proxy;
  fastcgi_temp_path {home}/fastcgi;
  uwsgi_temp_path {home}/uwsgi;
  scgi_temp_path {home}/scgi;
  log_format split '$uri $upstream_addr';
  access_log {home}/access.log split;
  upstream machines {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location = {path} {{
      proxy_pass http://machines;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 60s;
    }}
  }}
}}
""",
    )
    command = [program, "-p", str(home), "-c", str(home / "nginx.conf")]
    log = (home / "out.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    try:
        await _listening(port, process)
        yield Nginx(port, home / "access.log")
    finally:
        await _stop(process)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def machine_of(upstream: str, ports: dict[int, str]) -> str:
    """``127.0.0.1:8123`` -> the machine's name."""
    match = re.search(r":(\d+)$", upstream)
    return ports.get(int(match.group(1)), upstream) if match else upstream
