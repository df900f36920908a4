"""The deployed processes' event loop: uvloop unless ONBOARD_EVENT_LOOP=asyncio."""

from __future__ import annotations

import asyncio

import pytest

from bot import loop


async def _running_loop() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONBOARD_EVENT_LOOP", raising=False)
    assert loop.name() == "uvloop"
    assert loop.run(_running_loop()) == "uvloop"


def test_asyncio_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONBOARD_EVENT_LOOP", "asyncio")
    assert loop.name() == "asyncio"
    assert loop.run(_running_loop()) == "asyncio"
