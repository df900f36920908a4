"""Alembic migrations: they build exactly the models' schema, and re-running them is a no-op."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import alembic_config, async_url, create_engine, get_or_create_secret, migrate
from storage.models import AppSecretRow, Base

from .records_fixtures import Database, db_fixture, engine_fixture  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _state(connection: Connection) -> tuple[set[str], str | None]:
    tables = set(inspect(connection).get_table_names())
    return tables, MigrationContext.configure(connection).get_current_revision()


def _downgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


def test_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1


async def test_migration_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        tables, revision = await connection.run_sync(_state)
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert revision == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_migrate_twice_is_a_no_op(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(AppSecretRow).values(name="kept", value="v"))
        before = await connection.run_sync(_state)
    await migrate(engine)
    await migrate(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_state) == before
        assert await connection.scalar(select(AppSecretRow.value)) == "v"


async def test_concurrent_migrations_agree(db: Database) -> None:
    engines = [db.engine() for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(each) for each in engines))
        async with engines[0].connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        for each in engines:
            await each.dispose()


async def test_downgrade_and_upgrade_again(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade)
    async with engine.connect() as connection:
        assert await connection.run_sync(_state) == ({"alembic_version"}, None)
    await migrate(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_migrate_from_a_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'by-url.db'}"
    await migrate(url)
    await migrate(url)
    subject = create_engine(url)
    try:
        async with subject.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await subject.dispose()


async def test_alembic_command_line(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(ROOT / "storage" / "alembic.ini"),
        "upgrade",
        "head",
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    subject = create_engine(f"sqlite:///{database}")
    try:
        async with subject.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await subject.dispose()


async def test_secret_is_created_once(engine: AsyncEngine) -> None:
    values = await asyncio.gather(*(get_or_create_secret(engine, "web") for _ in range(5)))
    assert len(set(values)) == 1
    assert len(values[0]) >= 40
    assert await get_or_create_secret(engine, "web") == values[0]
    assert await get_or_create_secret(engine, "other") != values[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgres://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
def test_async_url(url: str, expected: str) -> None:
    assert async_url(url) == expected


def test_async_url_rejects_other_databases() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://u@h/d")
