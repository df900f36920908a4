"""One-time links: e-mail verification links (the page signals the conversation) and
invitations (redeemed by the deep link ``/start <token>``, see :mod:`bot.web.links`).

Tokens are random (≥128 bits, from ``secrets``), only their SHA-256 is stored, they expire and
work once. A verification link proves control of the address only for the newest link sent to
the address the conversation has now: an older link, or one for an address since changed, is
refused in the chat.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Literal

from dialogs.durations import hours
from dialogs.effects import StoreToken
from dialogs.events import Event, EventKind
from dialogs.i18n import N_
from dialogs.ports import Outgoing
from dialogs.replies import Text
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.steps.code import Code
from dialogs.steps.handoff import token_hash
from dialogs.turn import Turn

VERIFY_PATH = "verify"
LINK_PROMPT = N_(
    "We have sent a confirmation link to {address}. Please open it to continue here. "
    "If it has not arrived within a few minutes, check your spam folder."
)
LINK_SUBJECT = N_("Confirm your e-mail address")
LINK_BODY = N_(
    "Please confirm your e-mail address by opening this link:\n\n{url}\n\n"
    "The link works once and for {hours}. If you did not ask for it, ignore this message."
)
RESEND_LINK = N_("Send a new link")
OPEN_THE_LINK = N_("Please open the link in the e-mail we sent you; there is nothing to type here.")
OLD_LINK = N_(
    "That link was not the newest one we sent you (or it was for another address). "
    "Please open the newest link, or ask for a new one with the button below."
)
INVITATION_ONLY = N_(
    "This registration works only with your personal invitation link. Please open the link "
    "from your invitation, or send /human and a person will help you."
)


def new_token() -> str:
    """192 random bits, URL- and deep-link-safe (Telegram allows 64 of ``A-Za-z0-9_-``)."""
    return secrets.token_urlsafe(24)


def link_signal(purpose: str, digest: str) -> str:
    """What the web page tells the conversation when a verification link is opened."""
    return f"link:{purpose}:{digest}"


@register
class EmailLink(Code):
    """Like ``code``, but the secret is a link to open instead of digits to type."""

    kind = "email_link"
    resend_label = RESEND_LINK

    class Options(Code.Options):
        channel: Literal["email"] = "email"
        ttl: int = 86_400
        text: Message = LINK_PROMPT

    options: Options

    def _issue(self, turn: Turn) -> tuple[str, Outgoing]:
        o = self.options
        token = new_token()
        digest = token_hash(token)
        turn.effects.append(
            StoreToken(
                token_hash=digest,
                purpose=VERIFY_PATH,
                key=turn.key,
                customer_id=turn.state.customer_id,
                locale=turn.locale,
                expires_at=turn.now + o.ttl,
            )
        )
        url = f"{turn.services.public_url.rstrip('/')}/{VERIFY_PATH}/{token}"
        message = self._outgoing(turn, LINK_BODY, LINK_SUBJECT, url=url, hours=hours(o.ttl // 3600))
        return digest, message

    async def handle(self, turn: Turn, event: Event) -> str | None:
        if event.kind is EventKind.SIGNAL:
            return self._opened(turn, event.text)
        if event.kind is EventKind.BUTTON:
            return await super().handle(turn, event)
        turn.say(Text(OPEN_THE_LINK))
        return None

    def _opened(self, turn: Turn, signal: str) -> str | None:
        prefix = link_signal(VERIFY_PATH, "")
        pending = turn.state.codes.get(self.id)
        if not signal.startswith(prefix):
            return None
        digest = signal.removeprefix(prefix)
        if (
            pending is None
            or turn.now - pending.issued_at >= self.options.ttl
            or pending.to != self._target(turn)  # sent before the address changed
            or not hmac.compare_digest(digest, pending.digest)
        ):
            turn.say(Text(OLD_LINK))
            self.prompt(turn)
            return None
        del turn.state.codes[self.id]
        return self.options.next


@register
class InvitationGate(Step):
    """The first step of an invitation-only flow: it lets in only a conversation that opened a
    valid invitation (``bot.web.links`` sends the ``invitation:<customer id>`` signal)."""

    kind = "invitation"

    class Options(StepOptions):
        text: Message = INVITATION_ONLY
        next: Target

    options: Options

    def prompt(self, turn: Turn) -> None:
        turn.say(Text(self.options.text))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        prefix, _, customer = event.text.partition(":")
        if event.kind is EventKind.SIGNAL and prefix == "invitation":
            turn.state.customer_id = int(customer) if customer.isdigit() else None
            turn.state.answers["invited"] = "yes"
            return self.options.next
        self.prompt(turn)
        return None
