"""The deployed processes' event loop: uvloop unless ONBOARD_EVENT_LOOP=asyncio."""

from __future__ import annotations

import asyncio
import gc

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


def test_the_collector_runs_less_often_than_cpythons_default() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, *before[1:])
        loop.run(_running_loop())
        assert gc.get_threshold()[0] == loop.GC_YOUNG
        assert gc.get_threshold()[1:] == before[1:]
    finally:
        gc.set_threshold(*before)
