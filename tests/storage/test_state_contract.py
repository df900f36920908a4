"""The StateStore contract, run against every backend (see the ``store`` fixture)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from dialogs.events import ConversationKey
from dialogs.ports import DUPLICATE, Snapshot, StateStore
from storage.sql_state import SEEN_UPDATES, SqlStateStore
from storage.sqlite import configure_sqlite

from .conftest import KEY, POSTGRES_URL, SQL_BACKENDS, apply_once, backend, decode

OTHER = ConversationKey(bot_id=1, chat_id=-100, user_id=43)


async def test_new_key_is_empty(store: StateStore) -> None:
    assert await store.begin(KEY, None) == Snapshot(None, 0)
    assert await store.begin(KEY, 1) == Snapshot(None, 0)


async def test_commit_then_begin_returns_data_and_version(store: StateStore) -> None:
    payload = b"\x00\xffbinary"
    assert await store.commit(KEY, 0, payload, 1)
    assert await store.begin(KEY, 2) == Snapshot(payload, 1)
    assert await store.commit(KEY, 1, b"second", None)
    assert await store.begin(KEY, None) == Snapshot(b"second", 2)


async def test_keys_are_independent(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"mine", 1)
    assert await store.begin(OTHER, 1) == Snapshot(None, 0)


async def test_stale_commit_conflicts_and_does_not_overwrite(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"first", None)
    assert not await store.commit(KEY, 0, b"stale", None)
    assert await store.commit(KEY, 1, b"second", None)
    assert not await store.commit(KEY, 1, b"stale", None)
    assert await store.begin(KEY, None) == Snapshot(b"second", 2)


async def test_committed_update_is_duplicate(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 7)
    assert await store.begin(KEY, 7) == DUPLICATE
    assert await store.begin(KEY, 8) == Snapshot(b"a", 1)
    assert await store.begin(OTHER, 7) == Snapshot(None, 0)


async def test_failed_commit_does_not_mark_update_seen(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1)
    assert not await store.commit(KEY, 0, b"b", 2)
    assert not await store.commit(KEY, 5, b"b", 2)
    assert await store.begin(KEY, 2) == Snapshot(b"a", 1)


@pytest.mark.store_options(seen_limit=3)
async def test_seen_ids_are_trimmed_to_the_newest(store: StateStore) -> None:
    for version, update_id in enumerate(range(1, 6)):
        assert await store.commit(KEY, version, b"x", update_id)
    for old in (1, 2):
        assert not (await store.begin(KEY, old)).duplicate
    for recent in (3, 4, 5):
        assert await store.begin(KEY, recent) == DUPLICATE


@pytest.mark.store_options(ttl_seconds=1)
async def test_state_expires_after_ttl(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"short-lived", 1)
    await asyncio.sleep(1.2)
    snapshot = await store.begin(KEY, 2)
    assert snapshot.data is None
    assert not snapshot.duplicate
    # Whatever version an expired conversation reports, committing against it works.
    assert await store.commit(KEY, snapshot.version, b"fresh", 2)
    assert (await store.begin(KEY, None)).data == b"fresh"


async def test_delete_forgets_state_and_seen_ids(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1)
    await store.delete(KEY)
    assert await store.begin(KEY, 1) == Snapshot(None, 0)
    assert await store.commit(KEY, 0, b"again", 1)
    await store.delete(OTHER)  # deleting an unknown key is fine


async def test_concurrent_writers_lose_no_increment(store: StateStore) -> None:
    results = await asyncio.gather(*(apply_once(store, KEY, None) for _ in range(50)))
    assert all(results)
    snapshot = await store.begin(KEY, None)
    assert decode(snapshot.data)["n"] == 50
    assert snapshot.version == 50


async def test_raced_update_is_applied_once(store: StateStore) -> None:
    results = await asyncio.gather(*(apply_once(store, KEY, 42) for _ in range(10)))
    assert results.count(True) == 1
    assert await store.begin(KEY, 42) == DUPLICATE
    assert decode((await store.begin(KEY, None)).data) == {"n": 1, "ids": [42]}


# -- SQL only: expiry keeps the version, purge removes rows -----------------------------


@pytest.mark.parametrize("kind", SQL_BACKENDS)
async def test_sql_expired_row_keeps_version_until_purged(kind: str, tmp_path: Path) -> None:
    now = [1000.0]
    async with backend(kind, tmp_path) as where:
        engine = create_async_engine(where.url, **where.engine_options)
        if kind == "sqlite":
            configure_sqlite(engine)
        try:
            sql = SqlStateStore(engine, ttl_seconds=10, clock=lambda: now[0])
            assert await sql.commit(KEY, 0, b"a", 1)
            assert await sql.commit(KEY, 1, b"b", 2)
            now[0] += 11
            assert await sql.begin(KEY, 3) == Snapshot(None, 2)
            assert not await sql.commit(KEY, 0, b"stale", 3)
            assert await sql.purge_expired() == 1
            assert await sql.begin(KEY, 1) == Snapshot(None, 0)
            async with engine.connect() as conn:
                assert await conn.scalar(select(func.count()).select_from(SEEN_UPDATES)) == 0
            assert await sql.commit(KEY, 0, b"new", 1)
            assert await sql.purge_expired() == 0
        finally:
            await engine.dispose()


async def test_configure_sqlite_sets_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    configure_sqlite(engine)
    configure_sqlite(engine)  # idempotent: one set of listeners
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await conn.scalar(text("PRAGMA busy_timeout")) == 5000
    finally:
        await engine.dispose()
    postgres = create_async_engine(POSTGRES_URL)
    try:
        with pytest.raises(ValueError, match="not a SQLite engine"):
            configure_sqlite(postgres)
    finally:
        await postgres.dispose()
