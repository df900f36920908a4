"""Effects: what must happen once a turn's state is committed (never before)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.events import ConversationKey
from dialogs.ports import Attachment, HumanRequest, NewTicket, Outgoing, TicketStatus


@dataclass(frozen=True, slots=True)
class SendOutgoing:
    message: Outgoing


@dataclass(frozen=True, slots=True)
class StoreToken:
    token_hash: str
    purpose: str
    key: ConversationKey
    customer_id: int | None
    locale: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class RecordHuman:
    request: HumanRequest


@dataclass(frozen=True, slots=True)
class RecordConsent:
    """A declaration the customer gave in the chat (e.g. seed 001's e-communication)."""

    customer_id: int
    kind: str
    given_at: float


@dataclass(frozen=True, slots=True)
class SaveProfile:
    """The de registration's choices (seed 003): user name, edition, 2FA phone, visibility."""

    key: ConversationKey
    customer_id: int | None
    username: str
    edition: str | None
    two_factor_phone: str | None
    visible: bool
    saved_at: float


@dataclass(frozen=True, slots=True)
class LinkCustomer:
    """A flow ended with a known CRM customer: remember the Telegram user -> customer link
    (conversation state is reset by /start and expires; tickets need the link later)."""

    key: ConversationKey
    customer_id: int
    linked_at: float


@dataclass(frozen=True, slots=True)
class OpenTicket:
    ticket: NewTicket


@dataclass(frozen=True, slots=True)
class AddTicketMessage:
    """The customer wrote into a ticket (text and/or attachments)."""

    ref: str
    key: ConversationKey
    text: str
    at: float
    attachments: tuple[Attachment, ...] = ()
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class SetTicketStatus:
    """The customer closed or reopened a ticket."""

    ref: str
    status: TicketStatus
    at: float


@dataclass(frozen=True, slots=True)
class AddTicketCc:
    ref: str
    emails: tuple[str, ...]


TicketEffect = LinkCustomer | OpenTicket | AddTicketMessage | SetTicketStatus | AddTicketCc

Effect = SendOutgoing | StoreToken | RecordHuman | RecordConsent | SaveProfile | TicketEffect
