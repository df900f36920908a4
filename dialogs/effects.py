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


@dataclass(frozen=True, slots=True)
class ForgetCustomer:
    """/forget, confirmed (issue 20, GDPR Art. 17): erase what the bot holds about this chat's
    user (the conversation, its links and codes, the customer link, profiles, redeemed
    invitations, their tickets' personal content); CRM records stay."""

    key: ConversationKey
    at: float


@dataclass(frozen=True, slots=True)
class ExportData:
    """/mydata (GDPR Art. 15): send the user a JSON document of what the bot holds. ``state``
    is the conversation as the turn saw it, without code digests (dialogs.privacy)."""

    key: ConversationKey
    state: str
    at: float


PrivacyEffect = ForgetCustomer | ExportData

TicketEffect = LinkCustomer | OpenTicket | AddTicketMessage | SetTicketStatus | AddTicketCc

Effect = (
    SendOutgoing
    | StoreToken
    | RecordHuman
    | RecordConsent
    | SaveProfile
    | TicketEffect
    | PrivacyEffect
)
