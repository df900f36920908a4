"""The funnel's step events in SQL: written in batches off the update's path, read by
``onboard funnel``.

An update must not wait for an SQL write (``python -m bench``: the update's path is two Redis
round trips and nothing else). :class:`FunnelWriter` keeps the events of the turns in memory and
a background task inserts them in one statement every ``interval`` seconds, or as soon as
``batch`` events wait; :meth:`FunnelWriter.close` writes what is left when the process stops. A
database that cannot be reached costs nothing but a warning: the events wait (at most
``limit`` of them; beyond that the oldest are given up and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from asyncpg.exceptions import InterfaceError as PgInterfaceError
from asyncpg.exceptions import PostgresError
from sqlalchemy import bindparam, delete, exc, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.hot_sql import EnginePath, HotPath
from storage.models import FunnelEventRow

_FIELDS = ("at", "flow", "step", "kind", "customer", "outcome")
_INSERT = insert(FunnelEventRow).values({name: bindparam(name) for name in _FIELDS})

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FunnelEvent:
    at: float
    flow: str
    step: str
    kind: str  # entered, invalid, human, finished (dialogs.turn.MarkKind)
    customer: str  # a keyed hash of the conversation key
    outcome: str = ""  # finished: the end step, or "cancelled"


class FunnelWriter:
    def __init__(
        self,
        db: AsyncEngine,
        *,
        interval: float = 1.0,
        batch: int = 500,
        limit: int = 100_000,
        dropped: Callable[[int], None] | None = None,
        hot: HotPath | None = None,
    ) -> None:
        self.db = db
        self.hot = hot or EnginePath(db)  # on PostgreSQL: asyncpg's executemany
        self.interval = interval
        self.batch = batch
        self._rows: deque[FunnelEvent] = deque(maxlen=limit)
        self._dropped = dropped
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def add(self, event: FunnelEvent) -> None:
        """Queue one event (no I/O); the writer task starts with the first one."""
        if self._closed:
            return
        if len(self._rows) == self._rows.maxlen and self._dropped is not None:
            self._dropped(1)
        self._rows.append(event)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        if len(self._rows) >= self.batch:
            self._full.set()

    @property
    def pending(self) -> int:
        return len(self._rows)

    async def flush(self) -> int:
        """Write what waits; returns how many rows were written (0 when the database
        refused: the rows stay for the next try)."""
        rows = list(self._rows)
        if not rows:
            return 0
        values = [
            {
                "at": r.at,
                "flow": r.flow,
                "step": r.step,
                "kind": r.kind,
                "customer": r.customer,
                "outcome": r.outcome,
            }
            for r in rows
        ]
        try:
            await self.hot.execute_many(_INSERT, values)
        except (OSError, exc.SQLAlchemyError, PostgresError, PgInterfaceError) as error:
            log.warning("funnel: %s events not written yet (%s)", len(rows), type(error).__name__)
            return 0
        for _ in rows:
            self._rows.popleft()
        return len(rows)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.interval)
            self._full.clear()
            await self.flush()

    async def close(self) -> None:
        """Stop the writer task and write the rest."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()


async def load_events(
    db: AsyncEngine, *, since: float, flow: str | None = None
) -> list[FunnelEvent]:
    """The events since ``since`` (of one flow, or all), in the order they happened."""
    query = select(FunnelEventRow).where(FunnelEventRow.at >= since)
    if flow is not None:
        query = query.where(FunnelEventRow.flow == flow)
    async with db.connect() as connection:
        result = await connection.execute(query.order_by(FunnelEventRow.id))
        return [
            FunnelEvent(row.at, row.flow, row.step, row.kind, row.customer, row.outcome)
            for row in result
        ]


async def purge_before(db: AsyncEngine, cutoff: float) -> int:
    """Forget the step events older than ``cutoff`` (``FUNNEL_RETENTION_DAYS``)."""
    async with db.begin() as connection:
        result = await connection.execute(delete(FunnelEventRow).where(FunnelEventRow.at < cutoff))
    return int(result.rowcount or 0)
