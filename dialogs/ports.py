"""The interfaces the engine needs from the outside world (implemented in ``storage/`` and
``bot/``). Small on purpose: two calls per update for state, read-only look-ups for records.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from dialogs.events import ConversationKey, Event
from dialogs.replies import Param

if TYPE_CHECKING:
    from dialogs.engine import Outcome

Clock = Callable[[], float]
"""Seconds since the epoch. Injected everywhere time matters, so tests can move it."""


class TurnObserver(Protocol):
    """Told of every update the engine handled, after the commit (metrics, the funnel).
    Called on the update's path: it must not wait for anything (no I/O)."""

    def turn_applied(self, event: Event, outcome: Outcome, seconds: float) -> None: ...

    def turn_failed(self, event: Event, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A conversation as read by :meth:`StateStore.begin`.

    ``data`` is None for a conversation never seen (``version`` is then 0).
    ``duplicate`` is True when the update was already applied: do nothing.
    """

    data: bytes | None
    version: int
    duplicate: bool = False


DUPLICATE = Snapshot(None, 0, duplicate=True)


class CommitResult(enum.IntEnum):
    """What :meth:`StateStore.commit` did: true when it wrote (LEAD, QUEUED)."""

    CONFLICT = 0
    LEAD = 1
    """Written; nothing else was owed, so this caller delivers what the turn owes (it holds
    the conversation's delivery lease)."""
    QUEUED = 2
    """Written; an earlier turn's items are still being delivered, and whoever delivers them
    (this process or another) takes these too, in order."""
    DUPLICATE = 3
    """Not written: the update was already committed (found at commit time when the turn
    started without a read, storage/recent.py)."""

    def __bool__(self) -> bool:
        return self is CommitResult.LEAD or self is CommitResult.QUEUED


class StateStore(Protocol):
    """Conversation state with optimistic concurrency and update de-duplication.

    ``begin`` and ``commit`` are each one round trip to the backend (``begin`` none when the
    store remembers the conversation's last commit and an update starts a turn from it:
    storage/recent.py; ``begin(key, None)`` always reads what is stored).
    """

    async def begin(self, key: ConversationKey, update_id: int | None) -> Snapshot:
        """Return DUPLICATE if ``update_id`` was already committed, else the state."""
        ...

    async def commit(
        self,
        key: ConversationKey,
        expected_version: int,
        data: bytes,
        update_id: int | None,
        owed: Sequence[tuple[str, bytes]] = (),
    ) -> CommitResult:
        """Write ``data`` as version ``expected_version + 1`` if the stored version is still
        ``expected_version``; remember ``update_id``; refresh the TTL; and, in the same
        transaction, keep the ``owed`` items (id, sealed item: :mod:`dialogs.owed`) until
        they are settled. CONFLICT when another writer got there first; DUPLICATE when the
        update was already committed (a store may find that only here, see ``begin``)."""
        ...

    async def delete(self, key: ConversationKey) -> None: ...

    async def erase(self, key: ConversationKey) -> None:
        """The conversation and its seen update ids (/forget); what it still owes stays, to
        be delivered (the erasure's own notice among it)."""
        ...

    async def purge_finished(self, finished: Callable[[bytes], bool], *, limit: int = 1000) -> int:
        """Delete the conversations whose data ``finished`` says are past their time (unless
        they changed meanwhile); return how many went."""
        ...

    async def purge_owed(self, committed_before: Callable[[str], bool]) -> int:
        """Drop owed items whose id ``committed_before`` picks (undelivered too long); return
        how many went."""
        ...

    async def close(self) -> None: ...


class OwedStore(Protocol):
    """The items committed turns owe, with one delivery lease per conversation (the same
    backend as the state: the commit writes them)."""

    async def settle(self, key: ConversationKey, done: Sequence[str]) -> list[tuple[str, bytes]]:
        """Forget the ``done`` items. When nothing else is owed, end the lease and return [];
        else renew it and return what is still owed (turns committed meanwhile), in order."""
        ...

    async def owed(self, key: ConversationKey) -> list[tuple[str, bytes]]:
        """Everything still owed in the conversation, in order (renews the lease)."""
        ...

    async def claim(self, limit: int = 100) -> list[ConversationKey]:
        """Take the lease of conversations whose lease ended (their holder died or left)."""
        ...

    async def renew(self, keys: Sequence[ConversationKey], *, end: bool = False) -> None:
        """Extend the leases held on ``keys`` (``end``: let another process take them now)."""
        ...


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """The part of a CRM record a flow may see after a successful match."""

    customer_id: int
    name: str
    flags: Mapping[str, bool] = field(default_factory=dict)


class RecordLookup(Protocol):
    """Read-only look-ups against the CRM records."""

    async def match_customer(
        self, *, tax_scheme: str, tax_id: str, email: str | None = None, phone: str | None = None
    ) -> CustomerMatch | None:
        """The customer with this tax id whose e-mail (and/or phone) is on record, or None."""
        ...


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    serial: str  # a serial number, or a licence key with its dashes
    name: str


@dataclass(frozen=True, slots=True)
class ContractInfo:
    number: str
    product: str
    edition: str | None
    active: bool
    devices: tuple[DeviceInfo, ...]
    holder: str | None = None
    online_bought: bool = False


@dataclass(frozen=True, slots=True)
class ContractMatch:
    customer_id: int
    contract_number: str
    edition: str | None


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    """An active contract found by its number and an e-mail of the customer (seed 001).
    ``holder`` is False when the CRM names someone else as the policyholder."""

    customer_id: int
    name: str
    contract_number: str
    holder: bool


class ContractLookup(Protocol):
    """Read-only look-ups of contracts, devices and consents. Every mismatch is the same
    ``None``/``False``: an answer never says which part of the input was wrong."""

    async def find_contract(
        self, *, tax_scheme: str, tax_id: str, number: str, serial: str
    ) -> ContractMatch | None:
        """The active contract of this taxpayer with this number carrying this device."""
        ...

    async def contracts_of(self, customer_id: int) -> list[ContractInfo]:
        """The customer's contracts, active first, each with its device lines."""
        ...

    async def bought_online(self, *, email: str, phone: str) -> bool:
        """An active policy bought online with exactly this e-mail and phone exists."""
        ...

    async def has_consent(self, customer_id: int, kind: str) -> bool: ...

    async def match_policy(self, *, number: str, email: str) -> PolicyMatch | None:
        """The active contract with this number whose customer (or the contract itself) has
        this e-mail on record; None for every mismatch."""
        ...

    async def match_contact(self, *, email: str, phone: str) -> CustomerMatch | None:
        """The customer with both this e-mail and this phone on record (seed 002)."""
        ...


@dataclass(frozen=True, slots=True)
class HumanRequest:
    """A customer asked for a person: ``kind`` "help" (``/human``, an escalation point) or
    "callback" (seed 001: the company calls back within 2 days). ``details`` carries the
    context an agent needs (what failed, the number to call, the question)."""

    key: ConversationKey
    flow: str | None
    step: str | None
    locale: str
    reason: str
    created_at: float
    kind: str = "help"
    details: Mapping[str, str] = field(default_factory=dict)
    customer_id: int | None = None  # when the conversation knows the CRM customer
    ref: str | None = None  # the help ticket's ref, chosen by the turn that follows it


class ConsentRecorder(Protocol):
    async def record_consent(self, customer_id: int, kind: str, at: float) -> None:
        """Idempotent: giving a declaration twice keeps the first time."""
        ...


class RequestRecorder(Protocol):
    async def record_human_request(self, request: HumanRequest) -> int:
        """Store the request; return its id."""
        ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A mail or SMS to send once the conversation state is committed."""

    channel: str  # "email" or "sms"
    to: str
    locale: str
    subject: str
    body: str
    params: Mapping[str, Param] = field(default_factory=dict)


class Delivery(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Deliver or raise DeliveryError."""
        ...


class TokenStore(Protocol):
    """One-time hand-off tokens (stored hashed)."""

    async def store_token(
        self,
        *,
        token_hash: str,
        purpose: str,
        key: ConversationKey,
        customer_id: int | None,
        locale: str,
        expires_at: float,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class ConversationOutgoing(Outgoing):
    """An :class:`Outgoing` that knows its conversation and its cap per address, so the sender
    can enforce the cap across conversations and tell the customer about a late failure."""

    key: ConversationKey | None = None
    max_sends: int = 5
    send_window: int = 600


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


@dataclass(frozen=True, slots=True)
class Invitation:
    """A stored invitation link (only the hash of its token is kept)."""

    flow: str
    customer_id: int | None
    locale: str
    expires_at: float
    used_at: float | None
    used_by: str | None


class ProfileLookup(Protocol):
    """Read-only look-ups for the de registration (seed 003): user names and editions."""

    async def username_taken(self, username: str, key: ConversationKey) -> bool:
        """True if another registration (not the conversation ``key``) holds ``username``."""
        ...

    async def invited_edition(self, key: ConversationKey) -> str | None:
        """The product edition of the invitation the conversation ``key`` redeemed, if any."""
        ...


@dataclass(frozen=True, slots=True)
class GuestAccess:
    """A guest's (patient's) personal access code to one session: nothing about the guest."""

    session: str  # what the provider called the appointment, shown to the guest
    join_url: str
    expires_at: float

    def usable(self, now: float) -> bool:
        return now < self.expires_at


class GuestSessions(Protocol):
    async def find_access_code(self, code: str) -> GuestAccess | None:
        """The session this access code opens (expired ones too), or None if unknown."""
        ...


# -- support tickets (issue 6) -----------------------------------------------------------


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
