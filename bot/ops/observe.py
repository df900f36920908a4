"""What each turn tells operations: Prometheus counters, the funnel's SQL rows and, at DEBUG,
one log line per update.

The engine calls :class:`TurnRecorder` after each commit with the turn's marks
(:class:`dialogs.turn.Mark`: entered, invalid, human, finished, code). Counting is in memory (or
prometheus-client's memory-mapped files under ``--workers``); the funnel rows go to a buffered
writer that inserts them off the update's path (storage/funnel.py). The customer in the funnel
is a keyed hash of the conversation key: the same customer twice is recognisable, who they
are is not.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from bot.ops import metrics
from bot.ops.logs import turn_fields
from dialogs.engine import Outcome
from dialogs.events import Event
from dialogs.ports import Clock
from dialogs.turn import Mark, MarkKind
from storage.funnel import FunnelEvent, FunnelWriter

log = logging.getLogger("onboard.turns")
FUNNEL_KINDS = frozenset({MarkKind.ENTERED, MarkKind.INVALID, MarkKind.HUMAN, MarkKind.FINISHED})


class TurnRecorder:
    def __init__(self, funnel: FunnelWriter | None, secret: bytes, clock: Clock) -> None:
        self.funnel = funnel
        self.secret = hashlib.sha256(b"funnel|" + secret).digest()  # blake2b keys: <= 64 bytes
        self.clock = clock
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def turn_applied(self, event: Event, outcome: Outcome, seconds: float) -> None:
        if outcome.duplicate:
            result = "duplicate"
        else:
            result = "applied" if outcome.attempts == 1 else "conflict_retried"
        self._child(metrics.UPDATES, event.kind.value, result).inc()
        metrics.TURN_SECONDS.observe(seconds)
        if outcome.marks:
            self._marks(event, outcome.marks)
        if log.isEnabledFor(logging.DEBUG):
            last = outcome.marks[-1] if outcome.marks else None
            log.debug("turn", extra=turn_fields(event.update_id, last, result, seconds))

    def turn_failed(self, event: Event, seconds: float) -> None:
        self._child(metrics.UPDATES, event.kind.value, "failed").inc()
        metrics.TURN_SECONDS.observe(seconds)

    def _marks(self, event: Event, marks: tuple[Mark, ...]) -> None:
        customer = self._customer(event)
        now = self.clock()
        for mark in marks:
            self._count(mark)
            if self.funnel is not None and mark.kind in FUNNEL_KINDS and mark.flow:
                self.funnel.add(
                    FunnelEvent(now, mark.flow, mark.step or "-", mark.kind, customer, mark.outcome)
                )

    def _customer(self, event: Event) -> str:
        key = str(event.key).encode()
        return hashlib.blake2b(key, key=self.secret, digest_size=16).hexdigest()

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once: the labels are a small fixed set (flow and
        step ids, outcome words), and prometheus-client's own look-up takes a lock every time."""
        found = self._children.get((id(metric), labels))
        if found is None:
            found = self._children[(id(metric), labels)] = metric.labels(*labels)
        return found

    def _count(self, mark: Mark) -> None:
        flow, step = mark.flow or "none", mark.step or "none"
        if mark.kind is MarkKind.ENTERED:
            self._child(metrics.STEP_ENTERED, flow, step).inc()
        elif mark.kind is MarkKind.INVALID:
            self._child(metrics.STEP_INVALID, flow, step).inc()
        elif mark.kind is MarkKind.FINISHED:
            self._child(metrics.FLOW_FINISHED, flow, mark.outcome).inc()
        elif mark.kind is MarkKind.HUMAN:
            self._child(metrics.HUMAN_REQUESTS, flow, step).inc()
            metrics.ticket("help", "requested")
        elif mark.kind is MarkKind.CODE:
            self._child(metrics.CODES, mark.channel, mark.outcome).inc()
