"""Messages to the customer outside the chat, and callback requests for a person.

``notify`` sends flow-file texts by SMS and/or e-mail once the turn commits (seed 002: "an SMS
and an e-mail confirm the opening"). ``callback`` records a request for the company to call
the customer back (seed 001: "we call you back within 2 days") with the answers an agent needs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from dialogs.effects import RecordHuman, SendOutgoing
from dialogs.i18n import N_
from dialogs.ports import ConversationOutgoing, HumanRequest
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.turn import Turn

NOTICE_SUBJECT = N_("About your registration")


class Notice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Literal["email", "sms"]
    to: str  # the answer that holds the address or number
    subject: Message = NOTICE_SUBJECT  # e-mail only
    body: Message


@register
class Notify(Step):
    kind = "notify"
    waits = False

    class Options(StepOptions):
        text: Message | None = None  # said in the chat
        send: list[Notice]
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        params = dict(turn.params())
        for notice in self.options.send:
            address = turn.state.answers.get(notice.to)
            if not address:
                continue
            message = ConversationOutgoing(
                channel=notice.channel,
                to=address,
                locale=turn.locale,
                subject=notice.subject,
                body=notice.body,
                params=params,
                key=turn.key,
            )
            turn.effects.append(SendOutgoing(message))
        if self.options.text:
            turn.say(turn.text(self.options.text))
        return self.options.next


@register
class Callback(Step):
    """Record a callback request (``HumanRequest`` of kind ``callback``); agents see it as a
    ticket. ``question`` and ``details`` name answers; missing answers are left out."""

    kind = "callback"
    waits = False

    class Options(StepOptions):
        question: str
        details: tuple[str, ...] = ()
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        answers = turn.state.answers
        details = {key: answers[key] for key in self.options.details if answers.get(key)}
        if turn.state.customer_id is not None:
            details["customer_id"] = str(turn.state.customer_id)
        request = HumanRequest(
            key=turn.key,
            flow=turn.state.flow,
            step=self.id,
            locale=turn.locale,
            reason=answers.get(self.options.question, "")[:500],
            created_at=turn.now,
            kind="callback",
            details=details,
        )
        turn.effects.append(RecordHuman(request))
        return self.options.next
