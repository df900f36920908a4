"""Mails and SMS: what the code and notice steps ask to send, and the senders behind them
(bot/delivery.py, bot/outbox.py) with the cap per address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dialogs.events import ConversationKey
from dialogs.replies import Param


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A mail or SMS to send once the conversation state is committed."""

    channel: str  # "email" or "sms"
    to: str
    locale: str
    subject: str
    body: str
    params: Mapping[str, Param] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConversationOutgoing(Outgoing):
    """An :class:`Outgoing` that knows its conversation and its cap per address, so the sender
    can enforce the cap across conversations and tell the customer about a late failure."""

    key: ConversationKey | None = None
    max_sends: int = 5
    send_window: int = 600


class Delivery(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Deliver or raise DeliveryError."""
        ...


class SendLimiter(Protocol):
    """A counter of sends per address shared by every worker and conversation."""

    async def acquire(self, subject: str, *, now: float, limit: int, window: float) -> float:
        """Record one send to ``subject`` if fewer than ``limit`` were recorded in the
        ``window`` seconds before ``now``, and return 0; else record nothing and return the
        seconds until a send is allowed again."""
        ...

    async def prepare(self) -> None:
        """Connect and load scripts at start-up, so the first send costs one round trip."""
        ...

    async def close(self) -> None: ...
