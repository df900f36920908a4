"""Invitations, profiles and guest access: what the invitation and guest steps look up
(storage/profiles.py, storage/invitations.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dialogs.events import ConversationKey


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
