"""Databases for the record-store, CRM-import and migration tests: SQLite and PostgreSQL.

SQLite is a file under ``tmp_path``. PostgreSQL is the shared ``test`` database (override
with ``TEST_POSTGRES_URL``); each test gets its own fresh schema ``records_test_<random>``,
selected through ``search_path`` and dropped (CASCADE) afterwards, so suites running at the
same time never see each other's tables.

Import the fixtures into a test module: ``from .records_fixtures import engine_fixture``
(registered under the names ``db`` and ``engine``; the ``_fixture`` names keep ruff calm).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, migrate

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
DB_KINDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Database:
    """An empty database: its URL and the engine options that select it."""

    kind: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def engine(self) -> AsyncEngine:
        """A new engine on this database; the caller disposes of it."""
        return create_engine(self.url, **self.options)


def _asyncpg_dsn() -> str:
    return make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)


async def _pg_execute(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn())
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(name="db", params=DB_KINDS)
async def db_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite:///{tmp_path / 'records.db'}")
        return
    schema = f"records_test_{secrets.token_hex(6)}"
    await _pg_execute(f"CREATE SCHEMA {schema}")
    try:
        options = {"connect_args": {"server_settings": {"search_path": schema}}}
        yield Database("postgres", POSTGRES_URL, options)
    finally:
        await _pg_execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(name="engine")
async def engine_fixture(db: Database) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated ``db``."""
    subject = db.engine()
    try:
        await migrate(subject)
        yield subject
    finally:
        await subject.dispose()
