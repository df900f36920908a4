"""Hand-off to a web page through a one-time link (the password is never typed in chat).

The token is random (256 bits); only its SHA-256 is stored, after the turn commits. The page
(``bot/web/pages``) or, in ``portal`` mode, the company's own portal redeems it; either way the
web side then sends the signal ``handoff:<purpose>`` and the flow moves on to ``done``.

The flow file carries what the page must enforce: the password ``policy`` (NIST SP 800-63B
by default: a minimum length and a common-password check, no composition rules) and, for a
``pin`` hand-off, the service-PIN rules.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from dialogs.durations import minutes
from dialogs.effects import StoreToken
from dialogs.errors import ConfigError
from dialogs.events import Event, EventKind
from dialogs.i18n import N_
from dialogs.replies import Button, ButtonKind, Text
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.turn import Services, Turn

OPEN = N_("Set my password")
STILL_WAITING = N_("Please use the button above to continue on our secure page.")
PORTAL_READY = N_("Your password is set. This button opens the customer portal's login page.")
OPEN_PORTAL = N_("Open the customer portal")
PORTAL_PREFIX = "portal:"
PAGE_INTRO = N_("Choose the password for your customer portal account. It needs:")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PasswordPolicy(BaseModel):
    """What a password must satisfy. The default is NIST SP 800-63B's: a minimum length and
    a check against common passwords, no composition rules. Client-mandated rules add
    ``upper``/``lower``/``digit``/``symbols`` (``latin`` limits letters to A–Z) and
    ``forbidden`` passwords (e.g. the example printed on the client's own help page)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_length: int = Field(8, ge=1, le=64)
    max_length: int = Field(128, ge=64, le=1024)  # NIST: accept at least 64 characters
    upper: bool = False
    lower: bool = False
    digit: bool = False
    symbols: str = ""  # non-empty: at least one of these characters is required
    latin: bool = False
    common: bool = True
    forbidden: tuple[str, ...] = ()


class PinPolicy(BaseModel):
    """A service PIN: digits only, at least ``min_digits`` (6 or more), not trivial."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_digits: int = Field(6, ge=6, le=12)
    max_digits: int = Field(12, ge=6, le=32)


class HandoffMode(enum.StrEnum):
    PAGE = "page"  # our own page (bot/web/pages)
    PORTAL = "portal"  # the company's portal redeems the token (PORTAL_HANDOFF_URL)


@register
class Handoff(Step):
    kind = "handoff"

    class Options(StepOptions):
        text: Message
        button: Message = OPEN
        purpose: str = Field("password", pattern=r"^[a-z]{1,20}$")
        ttl: int | None = Field(None, ge=60, le=14 * 86_400)  # None: PASSWORD_LINK_TTL_MINUTES
        mode: HandoffMode = HandoffMode.PAGE
        policy: PasswordPolicy = PasswordPolicy()
        pin: PinPolicy = PinPolicy()
        # The password page's first line: it names the product the account is for.
        page_intro: Message = PAGE_INTRO
        portal_link: bool = False  # on success, offer a button to the portal's login page
        done: Target | None = None  # where the flow goes when the page reports success

    options: Options

    def stored_purpose(self) -> str:
        """The purpose the token is stored under: portal tokens cannot open our page."""
        prefix = PORTAL_PREFIX if self.options.mode is HandoffMode.PORTAL else ""
        return prefix + self.options.purpose

    def ttl(self, services: Services) -> int:
        return self.options.ttl or services.link_ttl

    def prompt(self, turn: Turn) -> None:
        services = turn.services
        token = secrets.token_urlsafe(32)
        ttl = self.ttl(services)
        turn.effects.append(
            StoreToken(
                token_hash=token_hash(token),
                purpose=self.stored_purpose(),
                key=turn.key,
                customer_id=turn.state.customer_id,
                locale=turn.locale,
                expires_at=turn.now + ttl,
            )
        )
        own_page = self.options.mode is HandoffMode.PAGE
        url = self.url(services, token)
        link = Button(Text(self.options.button), ButtonKind.LINK, url, in_app=own_page)
        turn.say(turn.text(self.options.text, minutes=minutes(ttl // 60)), (link,))

    def url(self, services: Services, token: str) -> str:
        if self.options.mode is HandoffMode.PAGE:
            return f"{services.public_url.rstrip('/')}/{self.options.purpose}/{token}"
        if not services.portal_handoff_url:
            raise ConfigError(f"step {self.id!r} hands off to the portal: set PORTAL_HANDOFF_URL")
        base = services.portal_handoff_url
        return f"{base}{'&' if '?' in base else '?'}{urlencode({'token': token})}"

    async def handle(self, turn: Turn, event: Event) -> str | None:
        if event.kind is EventKind.SIGNAL and event.text == f"handoff:{self.options.purpose}":
            self.confirm(turn)
            return self.options.done
        turn.say(Text(STILL_WAITING))
        self.prompt(turn)
        return None

    def confirm(self, turn: Turn) -> None:
        """With ``portal_link``, give the portal's login link; the ``done`` step then speaks."""
        portal = turn.services.portal_url
        if self.options.portal_link and portal:
            turn.say(Text(PORTAL_READY), (Button(Text(OPEN_PORTAL), ButtonKind.LINK, portal),))


def check_portal_settings(steps: list[Step], portal_handoff_url: str | None) -> None:
    """Fail at start-up, not mid-conversation, when a portal hand-off has nowhere to go."""
    for step in steps:
        portal = isinstance(step, Handoff) and step.options.mode is HandoffMode.PORTAL
        if portal and not portal_handoff_url:
            raise ConfigError(f"step {step.id!r} hands off to the portal: set PORTAL_HANDOFF_URL")
