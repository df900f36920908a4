"""/human while a flow waits: the request opens a help ticket that the conversation follows.

Until the customer goes back, what they type or send goes to that ticket (reaching the
agents) instead of to the paused question; a button, or any command, takes them back, and
the paused question is asked again (issue 17, item 6). A help ticket the agents closed
releases the conversation: the next message is an answer to the question again.
"""

from __future__ import annotations

import secrets

from dialogs.effects import AddTicketMessage, RecordHuman
from dialogs.events import Event, EventKind
from dialogs.i18n import N_
from dialogs.navigation import Navigator
from dialogs.ports import HumanRequest, TicketStatus
from dialogs.replies import Button, ButtonKind, Text
from dialogs.state import Status
from dialogs.steps.ticket_files import files_of, too_big
from dialogs.turn import Turn

HUMAN = N_(
    "Your request is recorded. A person from our support team will answer you here in this chat."
)
HUMAN_WRITE = N_(
    "Your request is recorded. A person from our support team will answer you here in this "
    "chat. What you send now goes to them."
)
HUMAN_PAUSED = N_(
    "Your request is recorded. A person from our support team will answer you here in this "
    "chat. What you send now goes to them. To answer the open question instead, press “Back "
    "to the question”."
)
# TRANSLATORS: button label; the text above quotes it
BACK_TO_QUESTION = N_("Back to the question")
BACK_BUTTON = "help:back"
ROUTED = (EventKind.TEXT, EventKind.FILE)


def waiting_question(turn: Turn) -> bool:
    flow, step = turn.flow, turn.state.step
    return turn.state.status is Status.ACTIVE and flow is not None and step in flow.steps


def ask_for_a_person(nav: Navigator, turn: Turn, reason: str) -> None:
    """Record the request; with tickets, follow its ticket until the customer goes back."""
    ref = secrets.token_urlsafe(12) if turn.services.tickets is not None else None
    request = HumanRequest(
        key=turn.key,
        flow=turn.state.flow,
        step=turn.state.step,
        locale=turn.locale,
        reason=reason.strip()[:500],
        created_at=turn.now,
        customer_id=turn.state.customer_id,
        ref=ref,
    )
    turn.effects.append(RecordHuman(request))
    if ref is None:  # nobody to write to: the question stays and is asked again
        turn.say(Text(HUMAN))
        nav.reprompt(turn)
        return
    turn.state.help_ticket = ref
    if waiting_question(turn):
        back = Button(Text(BACK_TO_QUESTION), ButtonKind.CALLBACK, BACK_BUTTON)
        turn.say(Text(HUMAN_PAUSED), (back,))
    else:
        turn.say(Text(HUMAN_WRITE))


async def follow_help_ticket(turn: Turn, event: Event) -> bool:
    """True if the event went to the open help ticket; otherwise the conversation is back
    with its question (a command, a button, a closed ticket), the event handled as usual."""
    ref = turn.state.help_ticket
    if ref is None:
        return False
    lookup = turn.services.tickets
    if event.kind in ROUTED and lookup is not None:
        ticket = await lookup.ticket(ref)
        if ticket is not None and ticket.status is TicketStatus.OPEN:
            if not too_big(turn, event):
                turn.effects.append(
                    AddTicketMessage(
                        ref, turn.key, event.text, turn.now, files_of(event), event.message_id
                    )
                )
            return True
    if not (event.kind is EventKind.COMMAND and event.command == "human"):
        turn.state.help_ticket = None
    return False
