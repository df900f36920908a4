"""Housekeeping's retention rules (issue 20): the RETAIN_* settings applied to every store.

| What | Setting | Where |
| --- | --- | --- |
| finished (or cancelled) conversations | RETAIN_FINISHED_DAYS | state store (Redis, SQL) |
| replies and effects never delivered | RETAIN_OWED_DAYS | state store (Redis, SQL) |
| closed tickets and their messages | RETAIN_CLOSED_TICKETS_DAYS | SQL |
| requests for a person | RETAIN_HUMAN_REQUESTS_DAYS | SQL |
| used or expired links, invitations, guests' codes | RETAIN_TOKENS_DAYS | SQL |
| idle send counters | RETAIN_COUNTERS_HOURS | SQL (Redis: their window) |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from dialogs.owed import committed_at
from dialogs.ports import StateStore
from dialogs.state import ConversationState, Status
from storage.limits import SqlSendLimiter
from storage.retention import DAY, Purged, Retention, purge_records


def retention_of(settings: Settings) -> Retention:
    return Retention(
        finished=settings.retain_finished_days * DAY,
        closed_tickets=settings.retain_closed_tickets_days * DAY,
        human_requests=settings.retain_human_requests_days * DAY,
        owed=settings.retain_owed_days * DAY,
        tokens=settings.retain_tokens_days * DAY,
        counters=settings.retain_counters_hours * 3600,
    )


def finished_before(cutoff: float) -> Callable[[bytes], bool]:
    """A conversation that ended (finished or cancelled) and was silent since ``cutoff``."""

    def finished(data: bytes) -> bool:
        state = ConversationState.decode(data)
        return state.status is not Status.ACTIVE and state.updated_at < cutoff

    return finished


def committed_before(cutoff: float) -> Callable[[str], bool]:
    def old(item: str) -> bool:
        at = committed_at(item)
        return at is not None and at < cutoff

    return old


@dataclass(frozen=True, slots=True)
class Swept:
    conversations: int
    owed: int
    counters: int
    records: Purged

    def __bool__(self) -> bool:
        return bool(self.conversations or self.owed or self.counters or self.records)


async def sweep(store: StateStore, db: AsyncEngine, retention: Retention, now: float) -> Swept:
    """Every retention rule, once."""
    return Swept(
        conversations=await store.purge_finished(finished_before(now - retention.finished)),
        owed=await store.purge_owed(committed_before(now - retention.owed)),
        counters=await SqlSendLimiter(db).purge(now=now, older_than=retention.counters),
        records=await purge_records(db, retention, now),
    )
