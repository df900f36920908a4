"""Effects: what must happen once a turn's state is committed (never before)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.events import ConversationKey
from dialogs.ports import HumanRequest, Outgoing


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


Effect = SendOutgoing | StoreToken | RecordHuman | RecordConsent
