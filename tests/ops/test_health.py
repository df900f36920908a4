"""/healthz, /readyz (Redis, the database, the migrations) and the Docker HEALTHCHECK."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.ops.health import add_ops_routes, probe
from bot.web.server import serving
from storage.db import create_engine, expected_heads, migrate
from tests.conftest import make_settings

pytestmark = pytest.mark.ops
ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def readyz(db_url: str, redis_url: str | None) -> tuple[int, dict[str, object]]:
    db = create_engine(db_url)
    app = web.Application()
    add_ops_routes(app, db, redis_url)
    try:
        async with TestClient(TestServer(app)) as client:
            answer = await client.get("/readyz")
            return answer.status, await answer.json()
    finally:
        await db.dispose()


async def test_ready_when_redis_and_the_migrated_database_answer(
    tmp_path: Path, app_redis: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}"
    await migrate(url)
    assert await readyz(url, app_redis) == (200, {"ok": True})
    assert await readyz(url, None) == (200, {"ok": True})  # the embedded default: no Redis


async def test_not_ready_says_what_is_wrong(tmp_path: Path, pg_database: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}"
    await migrate(url)
    status, body = await readyz(url, f"redis://127.0.0.1:{closed_port()}/0")
    assert status == 503
    assert body == {"ok": False, "problems": ["redis unreachable (ConnectionError)"]}

    # A database never migrated, or one migration behind the code.
    status, body = await readyz(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", None)
    assert status == 503
    assert body["problems"] == ["database unreachable or not migrated (OperationalError)"]
    await migrate(pg_database)
    db = create_engine(pg_database)
    async with db.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0008_14_owed'"))
    await db.dispose()
    status, body = await readyz(pg_database, None)
    assert status == 503
    (head,) = expected_heads()
    assert body["problems"] == [f"migrations not at head (missing {head})"]

    status, body = await readyz(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/x", None)
    assert status == 503
    assert "database unreachable" in str(body["problems"])


async def alive(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def test_onboard_health_probes_the_server_on_port(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    db = create_engine(url)
    app = web.Application()
    app.router.add_get("/healthz", alive)
    add_ops_routes(app, db, None)
    port = closed_port()
    settings = make_settings(tmp_path, port=port)
    assert await probe(settings) == 1  # nothing listens yet
    async with serving(app, "127.0.0.1", port):
        assert await probe(settings) == 0
        assert await probe(settings, ready=True) == 1  # not migrated
        await migrate(db)
        assert await probe(settings, ready=True) == 0
    await db.dispose()


def test_the_image_has_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    check = "HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3"
    assert check + ' \\\n    CMD ["onboard", "health"]' in dockerfile
