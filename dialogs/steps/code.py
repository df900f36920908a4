"""One-time code entry: the code is sent after the turn commits; only its keyed hash is kept.

Rules (NIST SP 800-63B style): random from ``secrets``; 6 digits by e-mail and 8 by SMS unless
the flow sets ``length``; valid ``ttl`` seconds; single use. Wrong codes are counted per
conversation (the Telegram account), not per code: a resend, a changed address, ``/cancel`` and
``/start`` keep the count; ``max_failures`` of them within ``lockout`` seconds lock code entry
and no new code is sent until the oldest of them is that old (a person can help sooner); only
the right code clears the count. A new code no sooner than
``resend_after`` seconds after the last; at most ``max_sends`` sends per ``send_window`` in this
conversation — and, enforced when sending (:mod:`bot.effects`), per address across all
conversations. The comparison is constant-time.
"""

from __future__ import annotations

import hmac
import math
import secrets
from typing import ClassVar, Literal

from dialogs.durations import minutes
from dialogs.effects import SendOutgoing
from dialogs.events import Event, EventKind
from dialogs.i18n import N_, NN_
from dialogs.ports import ConversationOutgoing, Outgoing
from dialogs.replies import Button, Param, Text, say, say_n
from dialogs.state import PendingCode
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.steps.basic import step_button
from dialogs.turn import MarkKind, Turn
from dialogs.validators import display_phone

PROMPT = N_(
    "We have sent a {length}-digit code to {address}. Please enter it here. "
    "If it has not arrived within a few minutes, check your spam folder."
)
WRONG_FORM = NN_(
    "The code has {length} digit. Please send just the digits.",
    "The code has {length} digits. Please send just the digits.",
)
WRONG = NN_(
    "That code is not right. You have {count} more try.",
    "That code is not right. You have {count} more tries.",
)
LOCKED = NN_(
    "Too many wrong codes. For your security, no new code can be sent for {count} minute. "
    "A person from our team can help you sooner: press the button below.",
    "Too many wrong codes. For your security, no new code can be sent for {count} minutes. "
    "A person from our team can help you sooner: press the button below.",
)
EXPIRED = N_("This code has expired. Please ask for a new code with the button below.")
OLD_ADDRESS = N_(
    "That code was sent before you made the change, so it no longer works. "
    "Please ask for a code to {address} with the button below."
)
WAIT = NN_(
    "You can ask for a new code in {count} second.",
    "You can ask for a new code in {count} seconds.",
)
WAIT_CHANGED = NN_(
    "The code sent before no longer works. A new code to {address} can be sent in "
    "{count} second: then press the button below.",
    "The code sent before no longer works. A new code to {address} can be sent in "
    "{count} seconds: then press the button below.",
)
TOO_MANY = N_("Too many codes were sent. Please try again in {minutes} or ask /human.")
RESENT = N_("A new code is on its way to {address}.")
RESEND = N_("Send a new code")
TALK_TO_A_PERSON = N_("Talk to a person")
CHANGE_EMAIL = N_("Change the e-mail address")
CHANGE_PHONE = N_("Change the phone number")
MAIL_SUBJECT = N_("Your confirmation code")
MAIL_BODY = N_(
    "Your confirmation code is {code}. It is valid for {minutes}.\n\n"
    "Enter it in the chat. Do not reply to this message; we will never ask you for this code "
    "by phone or e-mail."
)
SMS_BODY = N_("{code} is your confirmation code. It is valid for {minutes}. Never share it.")
DEFAULT_LENGTH = {"email": 6, "sms": 8}


def code_digest(secret: bytes, scope: str, code: str) -> str:
    return hmac.digest(secret, f"{scope}|{code}".encode(), "sha256").hex()


@register
class Code(Step):
    kind = "code"
    resend_label: ClassVar[str] = RESEND

    class Options(StepOptions):
        channel: Literal["email", "sms"] = "email"
        to: str  # the answer that holds the address or number
        length: int | None = None  # 6 for e-mail, 8 for SMS
        ttl: int = 600
        max_failures: int = 5  # wrong codes per conversation ...
        lockout: int = 1800  # ... within this many seconds lock code entry
        resend_after: int = 60
        max_sends: int = 5
        send_window: int = 600
        text: Message = PROMPT
        # What the mail or SMS calls the code: a flow that says "PIN" in the chat says so there.
        mail_subject: Message = MAIL_SUBJECT
        mail_body: Message = MAIL_BODY
        sms_body: Message = SMS_BODY
        change: Target | None = None
        next: Target

    options: Options

    @property
    def length(self) -> int:
        return self.options.length or DEFAULT_LENGTH[self.options.channel]

    def _scope(self, turn: Turn) -> str:
        flow = turn.flow.id if turn.flow else ""
        return f"{turn.key}|{flow}|{self.id}"

    def _target(self, turn: Turn) -> str:
        """Which address a code is for (a short keyed hash, not the address itself)."""
        address = turn.state.answers.get(self.options.to, "")
        return code_digest(turn.services.secret, f"{self._scope(turn)}|to", address)[:16]

    def _recent_sends(self, turn: Turn, pending: PendingCode | None) -> list[float]:
        window = self.options.send_window
        return [t for t in (pending.sends if pending else []) if turn.now - t < window]

    async def enter(self, turn: Turn) -> str | None:
        """Send a code, unless a live one already went to this very address (``/back`` and
        forth must not spam). A changed address (a typo fixed) gets a new code under the same
        rules as a resend: not before ``resend_after`` seconds since the last one (the customer
        is told how long to wait) and within this conversation's ``max_sends``, so switching
        numbers cannot pump messages out. A code sent to the old address no longer counts."""
        o = self.options
        pending = turn.state.codes.get(self.id)
        live = pending is not None and turn.now - pending.issued_at < o.ttl
        if live and pending is not None and pending.to == self._target(turn):
            self.prompt(turn)
            return None
        if self._locked(turn):
            return None
        sends = self._recent_sends(turn, pending)
        if sends and turn.now - sends[-1] < o.resend_after:
            wait = int(o.resend_after - (turn.now - sends[-1]) + 0.999)
            turn.say(say_n(WAIT_CHANGED, wait, address=self._address(turn)), self._buttons())
            return None
        if len(sends) >= o.max_sends:
            wait = int((o.send_window - (turn.now - sends[0])) / 60) + 1
            turn.say(say(TOO_MANY, minutes=minutes(wait)), self._buttons())
            return None
        self._send(turn)
        self.prompt(turn)
        return None

    def _address(self, turn: Turn) -> str:
        """The address or number as shown to the customer."""
        return display_phone(turn.state.answers.get(self.options.to, ""))

    def _recent_failures(self, turn: Turn) -> list[float]:
        failures = turn.state.failures.get(self.kind, [])
        return [t for t in failures if turn.now - t < self.options.lockout]

    def _locked(self, turn: Turn) -> bool:
        """Say so when code entry is locked: ``max_failures`` wrong codes in ``lockout``."""
        o = self.options
        failures = self._recent_failures(turn)
        if len(failures) < o.max_failures:
            return False
        minutes = math.ceil((o.lockout - (turn.now - failures[-o.max_failures])) / 60)
        human = step_button(self.id, "human", Text(TALK_TO_A_PERSON))
        turn.say(say_n(LOCKED, max(minutes, 1)), (human,))
        return True

    def _buttons(self) -> tuple[Button, ...]:
        o = self.options
        buttons = [step_button(self.id, "resend", Text(self.resend_label))]
        if o.change:
            label = CHANGE_EMAIL if o.channel == "email" else CHANGE_PHONE
            buttons.append(step_button(self.id, "change", Text(label)))
        return tuple(buttons)

    def prompt(self, turn: Turn) -> None:
        text = turn.text(self.options.text, length=self.length, address=self._address(turn))
        turn.say(text, self._buttons())

    async def handle(self, turn: Turn, event: Event) -> str | None:
        if event.kind is EventKind.SIGNAL:  # not for this step (e.g. a stale page)
            return None
        if event.kind is EventKind.BUTTON and event.text == "change" and self.options.change:
            return self.options.change  # the code stays bound to the old address
        if event.kind is EventKind.BUTTON and event.text == "human":
            return "@human"
        if event.kind is EventKind.BUTTON and event.text == "resend":
            self._resend(turn)
            return None
        return self._check(turn, "".join(event.text.split()))

    def _check(self, turn: Turn, entered: str) -> str | None:
        o = self.options
        pending = turn.state.codes.get(self.id)
        if len(entered) != self.length or not entered.isdigit():
            turn.say(say_n(WRONG_FORM, self.length, length=self.length))
            return None
        if self._locked(turn):
            self._mark(turn, "locked")
            return None
        if pending is not None and pending.to != self._target(turn):  # before a change
            turn.say(say(OLD_ADDRESS, address=self._address(turn)), self._buttons())
            return None
        if pending is None or turn.now - pending.issued_at >= o.ttl:
            self._mark(turn, "expired")
            turn.say(say(EXPIRED), self._buttons())
            return None
        expected = code_digest(turn.services.secret, self._scope(turn), entered)
        if not hmac.compare_digest(expected, pending.digest):
            failures = [*self._recent_failures(turn), turn.now]
            turn.state.failures[self.kind] = failures
            self._mark(turn, "wrong")
            if self._locked(turn):
                self._mark(turn, "locked")
            else:
                turn.say(say_n(WRONG, o.max_failures - len(failures)))
            return None
        self._mark(turn, "right")
        del turn.state.codes[self.id]
        turn.state.failures.pop(self.kind, None)
        return o.next

    def _resend(self, turn: Turn) -> None:
        o = self.options
        pending = turn.state.codes.get(self.id)
        sends = self._recent_sends(turn, pending)
        if self._locked(turn):
            return
        if sends and turn.now - sends[-1] < o.resend_after:
            wait = int(o.resend_after - (turn.now - sends[-1]) + 0.999)
            turn.say(say_n(WAIT, wait))
            return
        if len(sends) >= o.max_sends:
            wait = int((o.send_window - (turn.now - sends[0])) / 60) + 1
            turn.say(say(TOO_MANY, minutes=minutes(wait)))
            return
        self._send(turn)
        turn.say(say(RESENT, address=self._address(turn)))

    def _send(self, turn: Turn) -> None:
        sends = self._recent_sends(turn, turn.state.codes.get(self.id))
        digest, message = self._issue(turn)
        turn.state.codes[self.id] = PendingCode(
            digest=digest, issued_at=turn.now, sends=[*sends, turn.now], to=self._target(turn)
        )
        turn.effects.append(SendOutgoing(message))
        self._mark(turn, "sent")

    def _mark(self, turn: Turn, outcome: str) -> None:
        turn.mark(MarkKind.CODE, self.id, outcome, channel=self.options.channel)

    def _issue(self, turn: Turn) -> tuple[str, Outgoing]:
        """A fresh secret: what to keep (its keyed hash) and what to send (the secret)."""
        o = self.options
        code = f"{secrets.randbelow(10**self.length):0{self.length}d}"
        message = self._outgoing(
            turn,
            o.mail_body if o.channel == "email" else o.sms_body,
            o.mail_subject,
            code=code,
            minutes=minutes(o.ttl // 60),
        )
        return code_digest(turn.services.secret, self._scope(turn), code), message

    def _outgoing(
        self, turn: Turn, body: str, subject: str = MAIL_SUBJECT, **params: Param
    ) -> Outgoing:
        o = self.options
        return ConversationOutgoing(
            channel=o.channel,
            to=turn.state.answers[o.to],
            locale=turn.locale,
            subject=subject,
            body=body,
            params=params,
            key=turn.key,
            max_sends=o.max_sends,
            send_window=o.send_window,
        )
