"""What the engine itself needs: a clock and someone told of every turn (bot/ops/observe.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from dialogs.events import Event

if TYPE_CHECKING:
    from dialogs.engine import Outcome

Clock = Callable[[], float]
"""Seconds since the epoch. Injected everywhere time matters, so tests can move it."""


class TurnObserver(Protocol):
    """Told of every update the engine handled, after the commit (metrics, the funnel).
    Called on the update's path: it must not wait for anything (no I/O)."""

    def turn_applied(self, event: Event, outcome: Outcome, seconds: float) -> None: ...

    def turn_failed(self, event: Event, seconds: float) -> None: ...
