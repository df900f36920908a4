"""The CRM on loopback (tests/crm/server.py) and settings that point the bot at it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from storage.contracts import SqlContracts
from storage.crm_client import CrmConfig
from storage.crm_http import HttpCrm
from storage.crm_mirror import CrmMirror
from storage.db import create_engine, migrate
from tests.conftest import make_settings
from tests.crm.server import FakeCrm


@pytest.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    async with FakeCrm.from_file().serve() as server:
        yield server


def live(crm: FakeCrm, **extra: Any) -> dict[str, Any]:
    """The settings that make the bot ask ``crm`` (no padding unless ``extra`` sets it)."""
    return {
        "crm_lookup_url": crm.url,
        "crm_lookup_token": crm.token,
        "crm_lookup_auth": crm.auth,
        "crm_lookup_min_ms": 0,
        "crm_lookup_timeout_ms": 1000,
        **extra,
    }


def live_settings(tmp_path: Path, crm: FakeCrm, **extra: Any) -> Settings:
    return make_settings(tmp_path, **live(crm, **extra))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database of the test's own."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'records.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


def connector(
    crm: FakeCrm, db: AsyncEngine, *, clock: Callable[[], float] = time.monotonic, **options: Any
) -> HttpCrm:
    """The connector as the app builds it, pointed at ``crm``."""
    values: dict[str, Any] = {"timeout": 1.0, "retries": 2, "backoff": 0.01, **options}
    config = CrmConfig(url=crm.url, token=crm.token, auth=crm.auth, **values)  # type: ignore[arg-type]
    return HttpCrm(config, CrmMirror(db, SqlContracts(db), time.time), clock=clock)
