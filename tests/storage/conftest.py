"""Shared backends for the state-store tests: real Redis, SQLite (file) and PostgreSQL.

Servers: Redis db 13 at 127.0.0.1:6379 and PostgreSQL database ``test`` at 127.0.0.1:5432
(trust auth); override with ``TEST_REDIS_URL`` / ``TEST_POSTGRES_URL``.

Test runs may overlap (several engineers, CI), so nothing here is shared between tests:
each Redis test gets its own key prefix (its keys are deleted afterwards, no FLUSHDB that
would wipe a concurrent run), each PostgreSQL test its own schema with freshly created
state tables (dropped afterwards), each SQLite test its own file under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import create_async_engine

from dialogs.events import ConversationKey
from dialogs.ports import CommitResult, StateStore
from storage.keys import KeyBuilder
from storage.models import Base
from storage.redis_cluster import open_client
from storage.redis_state import RedisStateStore
from storage.sql_state import SqlStateStore
from storage.sqlite import configure_sqlite
from tests.chaos.harness import NEEDS_REDIS_SERVER

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("redis", "sqlite", "postgres")
# The contract on a Redis Cluster too (marker ``cluster``: it starts one, see tests/conftest.py)
CLUSTER = pytest.param("cluster", marks=[pytest.mark.cluster, NEEDS_REDIS_SERVER])
SQL_BACKENDS = ("sqlite", "postgres")

STATE_TABLES: list[Table] = [
    Base.metadata.tables["conversations"],
    Base.metadata.tables["seen_updates"],
    Base.metadata.tables["owed_items"],
    Base.metadata.tables["owed_leases"],
]

KEY = ConversationKey(bot_id=1, chat_id=-100, user_id=42)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "store_options(**kwargs): constructor options for the `store` fixture"
    )


@dataclass(frozen=True)
class Backend:
    """Where a store lives; picklable, so a spawned process can open its own store."""

    kind: str
    url: str
    engine_options: dict[str, Any] = field(default_factory=dict)
    key_prefix: str = "ob"

    def key_builder(self) -> KeyBuilder:
        return KeyBuilder(prefix=self.key_prefix)


async def _delete_redis_keys(prefix: str, url: str = REDIS_URL) -> None:
    client = open_client(url, 4)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)  # on a cluster: one DEL per slot
    finally:
        await client.aclose()


async def _create_tables(url: str, schema: str | None = None, **engine_options: Any) -> None:
    engine = create_async_engine(url, **engine_options)
    try:
        async with engine.begin() as conn:
            if schema is not None:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await conn.run_sync(Base.metadata.create_all, tables=STATE_TABLES)
    finally:
        await engine.dispose()


async def _drop_tables(url: str, schema: str, **engine_options: Any) -> None:
    engine = create_async_engine(url, **engine_options)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all, tables=STATE_TABLES)
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@asynccontextmanager
async def backend(kind: str, tmp_path: Path, cluster_url: str = "") -> AsyncIterator[Backend]:
    """A clean, private backend of ``kind``, cleaned up afterwards (``cluster``: on the
    Redis Cluster at ``cluster_url``)."""
    tag = f"state_test_{secrets.token_hex(6)}"
    if kind in ("redis", "cluster"):
        url = cluster_url if kind == "cluster" else REDIS_URL
        try:
            yield Backend(kind, url, key_prefix=tag)
        finally:
            await _delete_redis_keys(tag, url)
    elif kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / f'{tag}.db'}"
        await _create_tables(url)
        yield Backend(kind, url)
    elif kind == "postgres":
        options = {"connect_args": {"server_settings": {"search_path": tag}}}
        await _create_tables(POSTGRES_URL, tag, **options)
        try:
            yield Backend(kind, POSTGRES_URL, options)
        finally:
            await _drop_tables(POSTGRES_URL, tag, **options)
    else:
        raise ValueError(kind)


@asynccontextmanager
async def open_store(where: Backend, **options: Any) -> AsyncIterator[StateStore]:
    """A store on ``where`` that owns (and finally closes) its client or engine."""
    if where.kind in ("redis", "cluster"):
        redis_store = RedisStateStore.from_url(
            where.url, key_builder=where.key_builder(), **options
        )
        try:
            yield redis_store
        finally:
            await redis_store.close()
        return
    engine = create_async_engine(where.url, **where.engine_options)
    if where.kind == "sqlite":
        configure_sqlite(engine)
    sql_store = SqlStateStore(engine, **options)
    try:
        yield sql_store
    finally:
        await sql_store.close()
        await engine.dispose()


@pytest.fixture(params=[*BACKENDS, CLUSTER])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StateStore]:
    """The contract's subject, once per backend; ``@pytest.mark.store_options`` tunes it."""
    marker = request.node.get_closest_marker("store_options")
    options: dict[str, Any] = {"ttl_seconds": 60, **(marker.kwargs if marker else {})}
    url = request.getfixturevalue("redis_cluster").url if request.param == "cluster" else ""
    async with (
        backend(request.param, tmp_path, url) as where,
        open_store(where, **options) as subject,
    ):
        yield subject


# -- a tiny read-modify-write client, as the engine uses the store ----------------------


def decode(data: bytes | None) -> dict[str, Any]:
    """The test payload: a counter and the update ids applied, in order."""
    return json.loads(data) if data is not None else {"n": 0, "ids": []}


async def apply_once(store: StateStore, key: ConversationKey, update_id: int | None) -> bool:
    """Increment the counter for ``update_id``, retrying on conflict.

    True if this call applied the update, False if it was already applied (duplicate).
    """
    while True:
        snapshot = await store.begin(key, update_id)
        if snapshot.duplicate:
            return False
        state = decode(snapshot.data)
        state["n"] += 1
        if update_id is not None:
            state["ids"].append(update_id)
        result = await store.commit(key, snapshot.version, json.dumps(state).encode(), update_id)
        if result is CommitResult.DUPLICATE:  # found at commit time (storage/recent.py)
            return False
        if result:
            return True
