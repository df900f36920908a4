"""Support tickets: what the ticket steps open and read, and the support desk relays
(storage/tickets.py, bot/support)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from dialogs.events import ConversationKey


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TicketKind(enum.StrEnum):
    TICKET = "ticket"  # filed by the customer (/ticket)
    HELP = "help"  # /human from any step of any flow
    CALLBACK = "callback"  # the company calls back (seed 001: within 2 days)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A photo or document kept by Telegram's ``file_id``; ``message_id`` is the message in
    the chat it was sent to, so it can be copied on without downloading it."""

    file_id: str
    kind: str  # "photo" or "document"
    message_id: int | None = None
    name: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket the customer filed. ``ref`` is chosen by the turn (random) so the effect that
    stores it is idempotent and the conversation can refer to it before it has a number."""

    ref: str
    key: ConversationKey
    locale: str
    title: str
    description: str
    created_at: float
    customer_id: int | None = None
    contract: str | None = None
    device: str | None = None
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    message_id: int | None = None  # the description's message in the customer's chat


@dataclass(frozen=True, slots=True)
class TicketSummary:
    ref: str
    number: int
    title: str
    status: TicketStatus
    kind: TicketKind
    updated_at: float


@dataclass(frozen=True, slots=True)
class TicketEntry:
    """One message of a ticket's dialogue: ``author`` is "customer" or "agent"."""

    author: str
    text: str
    at: float
    attachments: int = 0


class TicketLookup(Protocol):
    """Read-only look-ups of the customer link and the tickets (the writes are effects)."""

    async def customer_of(self, key: ConversationKey) -> int | None:
        """The CRM customer this Telegram user registered as (finished a flow), or None."""
        ...

    async def tickets_of(self, key: ConversationKey) -> list[TicketSummary]:
        """The user's tickets, newest first."""
        ...

    async def ticket(self, ref: str) -> TicketSummary | None: ...

    async def entries(self, ref: str) -> list[TicketEntry]:
        """The ticket's dialogue, newest first."""
        ...
