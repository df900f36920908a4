"""How long each kind of record lives (issue 20): the SQL purges housekeeping runs hourly.

Conversation state (finished conversations) and what turns still owe live in the state
store, Redis or SQL, and are purged there (``purge_finished``, ``purge_owed``); the send
counters in Redis expire with their window, in SQL after ``RETAIN_COUNTERS_HOURS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import (
    GuestCodeRow,
    HandoffTokenRow,
    HumanRequestRow,
    InvitationRow,
    TicketGroupMessageRow,
    TicketMessageRow,
    TicketRow,
)

DAY = 86_400


@dataclass(frozen=True, slots=True)
class Retention:
    """Seconds each kind of record is kept after it ended (the RETAIN_* settings)."""

    finished: float = 30 * DAY
    closed_tickets: float = 365 * DAY
    human_requests: float = 180 * DAY
    owed: float = 7 * DAY
    tokens: float = 30 * DAY
    counters: float = DAY


@dataclass(frozen=True, slots=True)
class Purged:
    tickets: int = 0
    human_requests: int = 0
    tokens: int = 0

    def __bool__(self) -> bool:
        return bool(self.tickets or self.human_requests or self.tokens)


async def purge_records(db: AsyncEngine, retention: Retention, now: float) -> Purged:
    """Delete closed tickets, requests for a person and used or expired tokens past their
    time, each kind in its own transaction."""
    async with db.begin() as connection:
        tickets = await _closed_tickets(connection, now - retention.closed_tickets)
    async with db.begin() as connection:
        requests = await _human_requests(connection, now - retention.human_requests)
    async with db.begin() as connection:
        tokens = await _tokens(connection, now - retention.tokens)
    return Purged(tickets, requests, tokens)


async def _closed_tickets(connection: AsyncConnection, cutoff: float) -> int:
    old = select(TicketRow.id).where(TicketRow.status == "closed", TicketRow.updated_at < cutoff)
    numbers = list(await connection.scalars(old))
    if not numbers:
        return 0
    await connection.execute(
        delete(TicketMessageRow).where(TicketMessageRow.ticket_id.in_(numbers))
    )
    await connection.execute(
        delete(TicketGroupMessageRow).where(TicketGroupMessageRow.ticket_id.in_(numbers))
    )
    await connection.execute(delete(TicketRow).where(TicketRow.id.in_(numbers)))
    return len(numbers)


async def _human_requests(connection: AsyncConnection, cutoff: float) -> int:
    """Old requests, unless an open ticket still shows their context."""
    open_context = select(TicketRow.request_id).where(
        TicketRow.status != "closed", TicketRow.request_id.is_not(None)
    )
    old = select(HumanRequestRow.id).where(
        HumanRequestRow.created_at < cutoff, HumanRequestRow.id.not_in(open_context)
    )
    ids = list(await connection.scalars(old))
    if not ids:
        return 0
    await connection.execute(
        update(TicketRow).where(TicketRow.request_id.in_(ids)).values(request_id=None)
    )
    await connection.execute(delete(HumanRequestRow).where(HumanRequestRow.id.in_(ids)))
    return len(ids)


async def _tokens(connection: AsyncConnection, cutoff: float) -> int:
    """Links, invitations and guests' codes used or expired before ``cutoff``."""
    gone = 0
    for table, used in (
        (HandoffTokenRow, HandoffTokenRow.used_at),
        (InvitationRow, InvitationRow.used_at),
    ):
        result = await connection.execute(
            delete(table).where(or_(table.expires_at < cutoff, used < cutoff))
        )
        gone += int(result.rowcount or 0)
    result = await connection.execute(delete(GuestCodeRow).where(GuestCodeRow.expires_at < cutoff))
    return gone + int(result.rowcount or 0)
