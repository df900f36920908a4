"""What a step sees while it handles one update: the state, the services, and the output."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING

from dialogs.effects import Effect
from dialogs.events import ConversationKey
from dialogs.i18n import Catalogs
from dialogs.ports import (
    Clock,
    ContractLookup,
    GuestSessions,
    ProfileLookup,
    RecordLookup,
    TicketLookup,
)
from dialogs.replies import Button, Param, Reply, Text
from dialogs.state import ConversationState
from dialogs.validators import display_phone
from dialogs.zones import DEFAULT_ZONES, zone_of

if TYPE_CHECKING:
    from dialogs.flow import Flow


@dataclass(frozen=True, slots=True)
class Services:
    """Read-only collaborators of the engine, wired by the composition root."""

    records: RecordLookup
    catalogs: Catalogs
    clock: Clock
    secret: bytes  # keys the hashes of one-time codes
    public_url: str = "http://127.0.0.1:8080"  # where the web pages (hand-off links) live
    link_ttl: int = 1800  # hand-off links live this long unless the flow says otherwise
    portal_url: str | None = None  # the customer portal's login page, linked when done
    portal_handoff_url: str | None = None  # where a ``portal`` hand-off sends the customer
    contracts: ContractLookup | None = None  # contracts, devices, consents (hu, kk, de, pl)
    profiles: ProfileLookup | None = None  # de: user names taken, the invitation's edition
    guests: GuestSessions | None = None  # de: guests' access codes to a session
    tickets: TicketLookup | None = None  # support tickets and the user -> customer link
    live: LiveLookups | None = None  # the company's CRM asked over HTTP (issue 21)
    time_zones: Mapping[str, str] = field(default_factory=lambda: DEFAULT_ZONES)
    """Per language: the zone of the times shown (``TIME_ZONES``; dialogs/zones.py)."""
    privacy_url: str = "https://example.com/privacy"  # PRIVACY_URL, linked by the notice
    retain_finished_days: int = 30  # RETAIN_FINISHED_DAYS, as the notice tells it


@dataclass(frozen=True, slots=True)
class LiveLookups:
    """The company's own system, asked instead of the local copy by the flows in ``flows``
    (None: every flow). Its look-ups raise LookupUnavailable rather than answer "not found"."""

    records: RecordLookup
    contracts: ContractLookup
    flows: frozenset[str] | None = None

    def serves(self, flow: str | None) -> bool:
        return self.flows is None or flow in self.flows


class MarkKind(enum.StrEnum):
    """What a turn did that operations count (metrics, the funnel): never what was typed."""

    ENTERED = "entered"  # a step was entered
    INVALID = "invalid"  # the step refused an answer and asked again
    FINISHED = "finished"  # the flow ended: ``outcome`` is the end step, or "cancelled"
    HUMAN = "human"  # the customer asked for a person
    CODE = "code"  # a one-time code: ``outcome`` sent / right / wrong / expired / locked


@dataclass(frozen=True, slots=True)
class Mark:
    kind: MarkKind
    flow: str
    step: str
    outcome: str = ""
    channel: str = ""


@dataclass(slots=True)
class Turn:
    key: ConversationKey
    state: ConversationState
    flow: Flow | None
    services: Services
    now: float
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    def mark(
        self, kind: MarkKind, step: str | None = None, outcome: str = "", **labels: str
    ) -> None:
        """Note ``kind`` at ``step`` (default: the current one) of the running flow."""
        flow = self.flow.id if self.flow is not None else (self.state.flow or "")
        self.marks.append(Mark(kind, flow, step or self.state.step or "", outcome, **labels))

    @property
    def records(self) -> RecordLookup:
        """The CRM match for this conversation's flow: live or the local copy."""
        live = self.services.live
        return live.records if live and live.serves(self.state.flow) else self.services.records

    @property
    def contracts(self) -> ContractLookup | None:
        """Contracts, devices and consents for this conversation's flow: live or local."""
        live = self.services.live
        if live and live.serves(self.state.flow):
            return live.contracts
        return self.services.contracts

    @property
    def locale(self) -> str:
        return self.state.locale or "en"

    @property
    def time_zone(self) -> tzinfo:
        """The zone the customer reads times in (Telegram does not tell it: per language)."""
        return zone_of(self.locale, self.services.time_zones)

    def say(
        self,
        text: Text,
        buttons: tuple[Button, ...] = (),
        *,
        remove_keyboard: bool = False,
    ) -> None:
        self.replies.append(Reply(text, buttons, remove_keyboard))

    def params(self, **extra: Param) -> Mapping[str, Param]:
        """Collected answers plus ``extra``, for ``{placeholders}`` in flow texts. Phone
        numbers (kept as E.164) are shown as people write them."""
        answers = {key: display_phone(value) for key, value in self.state.answers.items()}
        return {**answers, **extra}

    def text(self, msgid: str, **extra: Param) -> Text:
        return Text(msgid, self.params(**extra))
