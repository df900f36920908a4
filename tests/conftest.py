"""Fixtures shared by the app-level tests: real Redis, SQLite and PostgreSQL, and a fake
Telegram Bot API server on loopback (the only fake: Telegram itself cannot be reached)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
from redis.asyncio import Redis

os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.config import Settings

if TYPE_CHECKING:
    from tests.cluster.redis_cluster import Cluster

APP_REDIS_URL = os.environ.get("TEST_APP_REDIS_URL", "redis://127.0.0.1:6379/14")
PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
STORES = ("redis", "embedded")


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings read .env from the working directory; tests must not."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[Cluster]:
    """A real Redis Cluster on loopback (3 primaries, a replica each), one per test session:
    started by the first test that asks for it (marker ``cluster``), stopped at the end."""
    from tests.cluster.redis_cluster import redis_cluster as started

    with started(replicas=1) as cluster:
        yield cluster


@pytest.fixture
async def app_redis() -> AsyncIterator[str]:
    client = Redis.from_url(APP_REDIS_URL)
    await client.flushdb()
    await client.aclose()
    yield APP_REDIS_URL
    client = Redis.from_url(APP_REDIS_URL)
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """A PostgreSQL database of its own, dropped afterwards."""
    name = f"onboard_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def make_settings(tmp_path: Path, *, redis_url: str | None = None, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'onboard.db'}",
        "redis_url": redis_url,
        "secret_key": "test-secret-key-0123456789abcdef",
        "public_url": "https://onboard.example.com",
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
