"""Guests and patients (seed 003) never register: they join one session with the personal
access code the provider created for them. The code is looked up through the
:class:`~dialogs.ports.GuestSessions` read port; nothing about the guest is stored, and the code
itself is not kept in the conversation."""

from __future__ import annotations

import math
import re

from dialogs import durations
from dialogs.i18n import N_
from dialogs.replies import Button, ButtonKind, Text
from dialogs.steps.base import Message, Target, register, wired
from dialogs.steps.basic import TextAnswer, TextOptions
from dialogs.turn import Turn

CODE_UNKNOWN = N_(
    "This access code is not valid. Please check it against your invitation and send it again."
)
CODE_EXPIRED = N_(
    "This access code has expired. Please ask the practice that invited you for a new one."
)
JOIN = N_("Join the video consultation")
TOO_MANY_TRIES = N_(
    "Too many wrong access codes. Please try again in {minutes}, or send /human and a "
    "person will help you."
)
ACCESS_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
"""Access codes are written in these characters (no I, L, O, U: nothing to mistake)."""


def normalise_access_code(raw: str) -> str:
    """Upper-case, without spaces and dashes; the letters read as digits are mapped back."""
    compact = re.sub(r"[\s-]", "", raw).upper()
    return compact.translate(str.maketrans("ILO", "110"))


@register
class AccessCode(TextAnswer):
    kind = "access_code"

    class Options(TextOptions):
        unknown: Message = CODE_UNKNOWN
        expired: Message = CODE_EXPIRED
        granted: Message  # {session}: the appointment, as the provider named it
        button: Message = JOIN
        too_many: Message = TOO_MANY_TRIES
        max_failures: int = 5  # wrong codes per conversation ...
        failure_window: int = 900  # ... in this many seconds
        next: Target

    options: Options

    async def answer(self, turn: Turn, text: str) -> str | None:
        guests = wired(turn.services.guests, self.id, "the guest sessions")
        o = self.options
        recent = [
            t for t in turn.state.failures.get(self.kind, []) if turn.now - t < o.failure_window
        ]
        if len(recent) >= o.max_failures:
            wait = math.ceil((o.failure_window - (turn.now - recent[0])) / 60)
            turn.say(Text(o.too_many, {"minutes": durations.minutes(wait)}))
            return None
        access = await guests.find_access_code(normalise_access_code(text))
        if access is None or not access.usable(turn.now):
            turn.state.failures[self.kind] = [*recent, turn.now]
            turn.say(Text(o.unknown if access is None else o.expired))
            return None
        join = Button(Text(self.options.button), ButtonKind.LINK, access.join_url)
        turn.say(Text(self.options.granted, {"session": access.session}), (join,))
        return self.options.next
