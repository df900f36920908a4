"""Where the benchmark keeps things: a dedicated Redis db (flushed before and after) and a
records database of its own (PostgreSQL when reachable, else a SQLite file)."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from bench.botapi import TOKEN
from bot.config import Settings
from storage.crm_import import load_crm
from storage.db import create_engine, migrate

REDIS_URL = "redis://127.0.0.1:6379/12"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - a loopback-only benchmark secret


@dataclass(frozen=True)
class Place:
    redis_url: str
    database_url: str
    records: str  # "postgresql" or "sqlite"

    def settings(self, **extra: object) -> Settings:
        values: dict[str, object] = {
            "bot_token": TOKEN,
            "redis_url": self.redis_url,
            "database_url": self.database_url,
            "secret_key": "bench-secret-key-0123456789abcdef",
            "public_url": "https://onboard.example.com",
            "webhook_secret": WEBHOOK_SECRET,
            "webhook_url": "https://onboard.example.com/telegram/webhook",
            "log_level": "WARNING",
            "telegram_rate_limits": False,  # the in-process Bot API has no limits to respect
            **extra,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def flush(redis_url: str) -> None:
    client: Redis = Redis.from_url(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def _postgres() -> AsyncIterator[str | None]:
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        yield None
        return
    name = f"onboard_bench_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def place(
    crm: Path | None, records: str = "auto", *, redis_url: str = REDIS_URL
) -> AsyncIterator[Place]:
    """Redis db 12 (or ``redis_url``: a test's) flushed before and after; records migrated
    and loaded with ``crm``."""
    with tempfile.TemporaryDirectory(prefix="onboard-bench-") as tmp:
        async with _postgres() if records != "sqlite" else contextlib.nullcontext() as pg:
            if pg is None and records == "postgresql":
                raise SystemExit("bench: PostgreSQL at 127.0.0.1:5432 is not reachable")
            url = pg or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            where = Place(redis_url, url, "postgresql" if pg else "sqlite")
            await flush(redis_url)
            db = create_engine(url)
            try:
                await migrate(db)
                if crm is not None:
                    await load_crm(db, crm)
            finally:
                await db.dispose()
            try:
                yield where
            finally:
                await flush(redis_url)
