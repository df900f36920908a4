"""The CRM on loopback (tests/crm/server.py) and settings that point the bot at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
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
