"""A circuit breaker: after enough failures in a row, stop asking for a while, then probe."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class CircuitBreaker:
    """Closed → open after ``failures`` failures in a row → half-open after ``seconds``."""

    def __init__(self, failures: int, seconds: float, clock: Callable[[], float]) -> None:
        self._limit, self._seconds, self._clock = failures, seconds, clock
        self._count = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        if self._opened_at is None:
            return True
        if self._clock() - self._opened_at < self._seconds or self._probing:
            return False
        self._probing = True  # half-open: one call finds out
        return True

    def success(self) -> None:
        self._count, self._opened_at, self._probing = 0, None, False

    def failure(self) -> None:
        self._count += 1
        self._probing = False
        if self._count >= self._limit or self._opened_at is not None:
            if self._opened_at is None:
                log.warning("CRM circuit opened after %s failed look-ups", self._count)
            self._opened_at = self._clock()
