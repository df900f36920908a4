"""What the flows' steps look up and record: CRM matches, contracts, consents, requests for a
person, hand-off tokens (storage/records.py, storage/contracts.py, the live CRM)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dialogs.events import ConversationKey


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
class FoundContract:
    customer_id: int
    contract_number: str
    edition: str | None


@dataclass(frozen=True, slots=True)
class FoundPolicy:
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
    ) -> FoundContract | None:
        """The active contract of this taxpayer with this number carrying this device."""
        ...

    async def contracts_of(self, customer_id: int) -> list[ContractInfo]:
        """The customer's contracts, active first, each with its device lines."""
        ...

    async def bought_online(self, *, email: str, phone: str) -> bool:
        """An active policy bought online with exactly this e-mail and phone exists."""
        ...

    async def has_consent(self, customer_id: int, kind: str) -> bool: ...

    async def match_policy(self, *, number: str, email: str) -> FoundPolicy | None:
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
