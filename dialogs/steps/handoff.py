"""Hand-off to a web page through a one-time link (the password is never typed in chat).

The token is random (256 bits); only its SHA-256 is stored, after the turn commits.
"""

from __future__ import annotations

import hashlib
import secrets

from dialogs.effects import StoreToken
from dialogs.events import Event, EventKind
from dialogs.i18n import N_
from dialogs.replies import Button, ButtonKind, Text
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.turn import Turn

OPEN = N_("Set my password")
STILL_WAITING = N_("Please use the button above to continue on our secure page.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@register
class Handoff(Step):
    kind = "handoff"

    class Options(StepOptions):
        text: Message
        button: Message = OPEN
        purpose: str = "password"
        ttl: int = 1800
        done: Target | None = None  # where the flow goes when the page reports success

    options: Options

    def prompt(self, turn: Turn) -> None:
        token = secrets.token_urlsafe(32)
        turn.effects.append(
            StoreToken(
                token_hash=token_hash(token),
                purpose=self.options.purpose,
                key=turn.key,
                customer_id=turn.state.customer_id,
                locale=turn.locale,
                expires_at=turn.now + self.options.ttl,
            )
        )
        url = f"{turn.services.public_url.rstrip('/')}/{self.options.purpose}/{token}"
        link = Button(Text(self.options.button), ButtonKind.LINK, url)
        turn.say(turn.text(self.options.text, minutes=self.options.ttl // 60), (link,))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        if event.kind is EventKind.SIGNAL and event.text == f"handoff:{self.options.purpose}":
            return self.options.done
        turn.say(Text(STILL_WAITING))
        self.prompt(turn)
        return None
