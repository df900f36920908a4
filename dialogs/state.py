"""The conversation record: everything the engine remembers between two updates.

Serialised as compact JSON (defaults left out) so a finished conversation stays well under 1 KB.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field


class Status(enum.StrEnum):
    IDLE = "idle"  # no flow running
    ACTIVE = "active"  # waiting for an answer to ``step``
    DONE = "done"  # the flow reached an end step


class PendingCode(BaseModel):
    """A one-time code that was sent: only its keyed hash is kept."""

    model_config = ConfigDict(extra="ignore")

    digest: str
    issued_at: float
    sends: list[float] = Field(default_factory=list)
    to: str = ""  # a short keyed hash of the address the code went to


class ConversationState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    flow: str | None = None
    step: str | None = None
    status: Status = Status.IDLE
    locale: str | None = None
    answers: dict[str, str] = Field(default_factory=dict)
    attempts: dict[str, int] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)
    codes: dict[str, PendingCode] = Field(default_factory=dict)
    customer_id: int | None = None
    parked: str | None = None
    """The look-up step the CRM could not answer; entered again on the next message."""
    home: str | None = None
    """The customer's own flow (the last one started other than a ticket): what /start goes
    back to after it ended or was cancelled, never another company's default flow."""
    home_done: bool = False
    """The customer finished ``home`` (e.g. is registered); kept like ``home``."""
    failures: dict[str, list[float]] = Field(default_factory=dict)
    """Recent failed tries of a guessable secret, per kind (e.g. access codes); unlike the
    answers, kept across /cancel and /start so starting over does not reset the count."""
    help_ticket: str | None = None
    """The ref of the help ticket /human opened: until the customer goes back (a button, a
    command), what they type or send goes there, not to the paused question."""
    revision: str = ""
    """The flow file's version and the step's (``dialogs.flow.Flow.revisions``) when this
    state was written: another process with another copy of the flow checks it (rolling
    deploys)."""
    noticed_at: float = 0.0
    """When this conversation was shown the privacy notice (once; kept like ``home``)."""
    updated_at: float = 0.0

    def encode(self) -> bytes:
        return self.model_dump_json(exclude_defaults=True).encode()

    @classmethod
    def decode(cls, data: bytes | None) -> ConversationState:
        return cls() if data is None else cls.model_validate_json(data)

    def reset_flow(self) -> None:
        """Forget the running flow but keep the customer's language."""
        self.flow = self.step = self.parked = None
        self.status = Status.IDLE
        self.answers.clear()
        self.attempts.clear()
        self.history.clear()
        self.codes.clear()
        self.customer_id = None
        self.help_ticket = None
