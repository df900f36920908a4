"""Step kinds for a customer's tickets after filing: the list (newest first), one ticket's
dialogue (newest on top), and writing into it — closing, reopening, a closed ticket offering
to be reopened."""

from __future__ import annotations

import json

from dialogs.effects import AddTicketMessage, SetTicketStatus
from dialogs.events import Event, EventKind
from dialogs.i18n import N_, NN_
from dialogs.ports import TicketEntry, TicketLookup, TicketStatus, TicketSummary
from dialogs.replies import Button, Text, say
from dialogs.steps.base import Message, Step, StepOptions, Target, register, wired
from dialogs.steps.basic import PICK_ONE, step_button
from dialogs.steps.ticket_files import (
    accepted,
    attachments_from_json,
    attachments_to_json,
    files_of,
    too_big,
)
from dialogs.steps.tickets import NUMBER, REF
from dialogs.turn import Turn
from dialogs.zones import local_time

LIST_CACHE = "ticket_list"
PENDING = "ticket_pending"
SHOWN = 10  # tickets in the list; entries in a ticket's view
ENTRIES_SHOWN = 20

LIST = N_("Your tickets, newest first. Choose one to see its messages:")
STATUS_LABELS = {TicketStatus.OPEN: N_("open"), TicketStatus.CLOSED: N_("closed")}
VIEW = N_("Ticket #{number} “{title}” ({status}), newest messages first:\n\n{entries}")
YOU = N_("You")
SUPPORT = N_("Support")
ATTACHED = NN_("({count} attachment)", "({count} attachments)")
DIALOGUE = N_("Ticket #{number} “{title}”: write here to add a message, or send files.")
# TRANSLATORS: button label
CLOSE = N_("Close ticket")
# TRANSLATORS: button label
REOPEN = N_("Reopen ticket")
# TRANSLATORS: button label
MY_TICKETS = N_("My tickets")
# TRANSLATORS: button label
ADD_CC = N_("Add CC e-mails")
# TRANSLATORS: button label
KEEP_CLOSED = N_("Keep it closed")
CLOSED_BY_YOU = N_("Ticket #{number} is closed. You can reopen it at any time from /tickets.")
REOPENED = N_("Ticket #{number} is open again.")
CLOSED_OFFER = N_("Ticket #{number} is closed. Reopen it and add your message?")
KEPT_CLOSED = N_("All right, the ticket stays closed and your message was not added.")


def _lookup(turn: Turn, step_id: str) -> TicketLookup:
    return wired(turn.services.tickets, step_id, "the ticket store")


def status_label(turn: Turn, status: TicketStatus) -> str:
    return turn.services.catalogs.gettext(STATUS_LABELS[status], turn.locale)


@register
class TicketList(Step):
    """The user's tickets as buttons, newest first; choosing one saves its ``ticket_ref``."""

    kind = "ticket_list"

    class Options(StepOptions):
        text: Message = LIST
        empty: Target
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        tickets = (await _lookup(turn, self.id).tickets_of(turn.key))[:SHOWN]
        if not tickets:
            return self.options.empty
        rows = [[t.ref, t.number, t.title, status_label(turn, t.status)] for t in tickets]
        turn.state.answers[LIST_CACHE] = json.dumps(rows)
        self.prompt(turn)
        return None

    def prompt(self, turn: Turn) -> None:
        rows = json.loads(turn.state.answers.get(LIST_CACHE, "[]"))
        buttons = tuple(
            step_button(self.id, str(i), Text(f"#{number} · {status} · {title}"[:60], literal=True))
            for i, (_, number, title, status) in enumerate(rows)
        )
        turn.say(turn.text(self.options.text), buttons)

    async def handle(self, turn: Turn, event: Event) -> str | None:
        rows = json.loads(turn.state.answers.get(LIST_CACHE, "[]"))
        if event.kind is EventKind.BUTTON and event.text.isdigit() and int(event.text) < len(rows):
            ref, number, _, _ = rows[int(event.text)]
            turn.state.answers[REF], turn.state.answers[NUMBER] = ref, str(number)
            return self.options.next
        turn.say(Text(PICK_ONE))
        self.prompt(turn)
        return None


@register
class TicketView(Step):
    """Show the chosen ticket's dialogue, newest on top, then move on."""

    kind = "ticket_view"
    waits = False

    class Options(StepOptions):
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        ref = turn.state.answers.get(REF, "")
        lookup = _lookup(turn, self.id)
        ticket = await lookup.ticket(ref)
        if ticket is not None:
            entries = (await lookup.entries(ref))[:ENTRIES_SHOWN]
            text = "\n\n".join(self._entry(turn, entry) for entry in entries)
            params = {"status": status_label(turn, ticket.status), "entries": text}
            turn.say(say(VIEW, number=ticket.number, title=ticket.title, **params))
        return self.options.next

    @staticmethod
    def _entry(turn: Turn, entry: TicketEntry) -> str:
        catalogs, locale = turn.services.catalogs, turn.locale
        when = local_time(entry.at, locale, turn.time_zone)
        author = catalogs.gettext(YOU if entry.author == "customer" else SUPPORT, locale)
        lines = [f"{when} · {author}:", entry.text]
        if entry.attachments:
            template = catalogs.ngettext(*ATTACHED, entry.attachments, locale)
            lines.append(template.replace("{count}", str(entry.attachments)))
        return "\n".join(line for line in lines if line)


@register
class TicketDialogue(Step):
    """Writing into the ticket: every text or file goes to it; close, reopen, add CC."""

    kind = "ticket_dialogue"

    class Options(StepOptions):
        text: Message = DIALOGUE
        tickets: Target
        add_cc: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        ticket = await _lookup(turn, self.id).ticket(turn.state.answers.get(REF, ""))
        if ticket is not None:  # just filed: the filing notice speaks instead
            self._remember(turn, ticket)
            self.prompt(turn)
        return None

    @staticmethod
    def _remember(turn: Turn, ticket: TicketSummary) -> None:
        turn.state.answers[NUMBER] = str(ticket.number)
        turn.state.answers["ticket_title"] = ticket.title
        turn.state.answers["ticket_status"] = ticket.status.value

    def prompt(self, turn: Turn) -> None:
        answers = turn.state.answers
        if answers.get(PENDING) is not None:
            offer = (self._button(REOPEN, "reopen"), self._button(KEEP_CLOSED, "keep"))
            turn.say(say(CLOSED_OFFER, number=answers.get(NUMBER, "")), offer)
            return
        closed = answers.get("ticket_status") == TicketStatus.CLOSED
        buttons = (
            self._button(REOPEN, "reopen") if closed else self._button(CLOSE, "close"),
            self._button(ADD_CC, "cc"),
            self._button(MY_TICKETS, "list"),
        )
        params = {"number": answers.get(NUMBER, ""), "title": answers.get("ticket_title", "")}
        turn.say(say(self.options.text, **params), buttons)

    def _button(self, label: str, value: str) -> Button:
        return step_button(self.id, value, Text(label))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        ref = turn.state.answers.get(REF, "")
        ticket = await _lookup(turn, self.id).ticket(ref)
        if ticket is not None:
            self._remember(turn, ticket)
        if event.kind is EventKind.BUTTON:
            return self._press(turn, ref, event.text)
        if event.kind not in (EventKind.TEXT, EventKind.FILE) or too_big(turn, event):
            return None
        message = AddTicketMessage(
            ref, turn.key, event.text, turn.now, files_of(event), event.message_id
        )
        if ticket is not None and ticket.status is TicketStatus.CLOSED:
            pending = [message.text, message.message_id, attachments_to_json(message.attachments)]
            turn.state.answers[PENDING] = json.dumps(pending)
            self.prompt(turn)
            accepted(turn, self.id)
            return None
        turn.effects.append(message)
        accepted(turn, self.id)
        return None

    def _press(self, turn: Turn, ref: str, value: str) -> str | None:
        answers, number = turn.state.answers, turn.state.answers.get(NUMBER, "")
        if value == "list":
            return self.options.tickets
        if value == "cc":
            return self.options.add_cc
        if value == "close":
            turn.effects.append(SetTicketStatus(ref, TicketStatus.CLOSED, turn.now))
            answers["ticket_status"] = TicketStatus.CLOSED.value
            turn.say(say(CLOSED_BY_YOU, number=number))
        elif value == "reopen":
            turn.effects.append(SetTicketStatus(ref, TicketStatus.OPEN, turn.now))
            answers["ticket_status"] = TicketStatus.OPEN.value
            turn.say(say(REOPENED, number=number))
            self._send_pending(turn, ref)
        elif value == "keep" and answers.pop(PENDING, None) is not None:
            turn.say(Text(KEPT_CLOSED))
        else:
            turn.say(Text(PICK_ONE))
            self.prompt(turn)
        return None

    @staticmethod
    def _send_pending(turn: Turn, ref: str) -> None:
        pending = turn.state.answers.pop(PENDING, None)
        if pending is None:
            return
        text, message_id, files = json.loads(pending)
        attachments = attachments_from_json(files)
        turn.effects.append(
            AddTicketMessage(ref, turn.key, text, turn.now, attachments, message_id)
        )
