"""The event loop the deployed processes run on: uvloop where it is installed (Linux and
macOS; a dependency there), else asyncio's own.

uvloop's transports and timers are libuv in C; aiohttp's server, asyncpg and redis-py spend
less CPU per update on it (``python -m bench``: the webhook workers' CPU per update, see
README's Performance section). ``ONBOARD_EVENT_LOOP=asyncio`` selects asyncio's loop (for
debugging with asyncio's debug mode, say).

The cyclic garbage collector's first generation runs every :data:`GC_YOUNG` allocations
instead of CPython's 700: a turn allocates a few thousand short-lived objects (the update's
JSON, the state, the replies), nearly all freed by reference counting, and the default made
the collector walk them ~10 times a turn (11% of the CPU per update on ``python -m bench``,
timed with ``gc.callbacks``; 0.5% with this). Memory is unchanged in practice: the young
generation holds at most a few MB more before it is collected.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
GC_YOUNG = 20_000


def _factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    if os.environ.get("ONBOARD_EVENT_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop  # noqa: PLC0415 - optional where no wheel exists (Windows)
    except ImportError:  # pragma: no cover - a dependency on Linux
        return None
    return uvloop.new_event_loop


def name() -> str:
    """``uvloop`` or ``asyncio``: what :func:`run` uses here."""
    return "asyncio" if _factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the chosen loop, with the collector tuned (see the module)."""
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(GC_YOUNG, young), older, oldest)
    with asyncio.Runner(loop_factory=_factory()) as runner:
        return runner.run(main)
