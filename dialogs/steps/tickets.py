"""Step kinds for filing a support ticket (seed 004's "Tickets"): who is asking, which contract
and device line, long texts, attachments, CC addresses, and filing it.

Everything a step writes to the records is an effect (run after the commit); look-ups go
through ``turn.services.tickets`` and ``turn.contracts``. Lists a later prompt needs
(the device lines, the collected files) are cached in the answers as JSON, because
:meth:`Step.prompt` cannot wait for a look-up.
"""

from __future__ import annotations

import json
import re
import secrets

from dialogs.effects import AddTicketCc, OpenTicket
from dialogs.events import Event, EventKind
from dialogs.i18n import N_
from dialogs.ports import NewTicket
from dialogs.replies import Text, say
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.steps.basic import PICK_ONE, TextAnswer, TextOptions, step_button
from dialogs.steps.ticket_files import FILES, attachments_from_json
from dialogs.turn import Turn
from dialogs.validators import Invalid, email

CUSTOMER = "ticket_customer"
REF = "ticket_ref"
NUMBER = "ticket_number"
LINES = "ticket_lines"
NO_LINE = "none"

LONG_TEXT_INVALID = N_("Please send a text of up to {limit} characters.")
# TRANSLATORS: button label
NOTHING_SPECIFIC = N_("Something else")
# TRANSLATORS: button label
SKIP = N_("Skip")
CC_INVALID = N_(
    "These do not look like e-mail addresses: {invalid}. Please send the addresses again, "
    "separated by commas."
)


async def registered_customer(turn: Turn) -> int | None:
    """The CRM customer of this conversation: matched in the running flow, or linked when an
    earlier flow ended (``customer_links``); None for someone who never registered."""
    customer = turn.state.customer_id
    if customer is None and turn.services.tickets is not None:
        customer = await turn.services.tickets.customer_of(turn.key)
    return customer


@register
class TicketCustomer(Step):
    """Who is asking: the CRM customer this Telegram user registered as (a finished flow)."""

    kind = "ticket_customer"
    waits = False

    class Options(StepOptions):
        registered: Target
        unregistered: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        customer = await registered_customer(turn)
        if customer is None:
            return self.options.unregistered
        turn.state.answers[CUSTOMER] = str(customer)
        return self.options.registered


@register
class PickDeviceLine(Step):
    """Choose a device line of one of the customer's active contracts (or "something else")."""

    kind = "pick_device_line"

    class Options(StepOptions):
        text: Message
        other: Message = NOTHING_SPECIFIC
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        lines: list[list[str]] = []
        contracts = turn.contracts
        customer = turn.state.answers.get(CUSTOMER)
        if contracts is not None and customer:
            for contract in await contracts.contracts_of(int(customer)):
                if contract.active:
                    lines.extend([contract.number, d.serial, d.name] for d in contract.devices[:10])
        turn.state.answers[LINES] = json.dumps(lines[:20])
        self.prompt(turn)
        return None

    def _lines(self, turn: Turn) -> list[list[str]]:
        loaded: list[list[str]] = json.loads(turn.state.answers.get(LINES, "[]"))
        return loaded

    def prompt(self, turn: Turn) -> None:
        buttons = [
            step_button(self.id, str(i), Text(f"{number} · {name} ({serial})", literal=True))
            for i, (number, serial, name) in enumerate(self._lines(turn))
        ]
        buttons.append(step_button(self.id, NO_LINE, Text(self.options.other)))
        turn.say(turn.text(self.options.text), tuple(buttons))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        lines, answers = self._lines(turn), turn.state.answers
        if event.kind is EventKind.BUTTON and event.text == NO_LINE:
            answers.pop("contract", None)
            answers.pop("device", None)
            return self.options.next
        if event.kind is EventKind.BUTTON and event.text.isdigit() and int(event.text) < len(lines):
            number, serial, name = lines[int(event.text)]
            answers["contract"], answers["device"] = number, f"{serial} ({name})"
            return self.options.next
        turn.say(Text(PICK_ONE))
        self.prompt(turn)
        return None


@register
class LongText(TextAnswer):
    """A free text of up to ``max_length`` characters (a title, a description)."""

    kind = "long_text"

    class Options(TextOptions):
        max_length: int = 3000
        save_as: str | None = None
        next: Target

    options: Options

    async def answer(self, turn: Turn, text: str) -> str | None:
        value = text.strip()
        if not value or len(value) > self.options.max_length:
            turn.say(say(LONG_TEXT_INVALID, limit=self.options.max_length))
            return None
        turn.state.answers[self.options.save_as or self.id] = value
        return self.options.next


def parse_emails(text: str) -> tuple[list[str], list[str]]:
    """(valid normalised addresses, what was not an address) from a comma/space list."""
    valid, invalid = [], []
    for part in (p for p in re.split(r"[,;\s]+", text) if p):
        try:
            valid.append(email(part))
        except Invalid:
            invalid.append(part)
    return valid, invalid


@register
class CollectEmails(Step):
    """Optional CC addresses. With ``add_to_ticket`` they are added to the open ticket."""

    kind = "collect_emails"

    class Options(StepOptions):
        text: Message
        save_as: str | None = None
        add_to_ticket: bool = False
        next: Target

    options: Options

    def prompt(self, turn: Turn) -> None:
        turn.say(turn.text(self.options.text), (step_button(self.id, "skip", Text(SKIP)),))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        key = self.options.save_as or self.id
        if event.kind is EventKind.BUTTON and event.text == "skip":
            turn.state.answers.pop(key, None)
            return self.options.next
        valid, invalid = parse_emails(event.text if event.kind is EventKind.TEXT else "")
        if invalid or not valid:
            turn.say(say(CC_INVALID, invalid=", ".join(invalid) or "—"))
            return None
        unique = tuple(dict.fromkeys(valid))
        if self.options.add_to_ticket and REF in turn.state.answers:
            turn.effects.append(AddTicketCc(turn.state.answers[REF], unique))
        else:
            turn.state.answers[key] = ", ".join(unique)
        return self.options.next


@register
class FileTicket(Step):
    """Hand the collected ticket to the records (an effect); the draft leaves the state."""

    kind = "file_ticket"
    waits = False

    class Options(StepOptions):
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        answers = turn.state.answers
        customer = answers.get(CUSTOMER)
        ref = secrets.token_urlsafe(12)
        ticket = NewTicket(
            ref=ref,
            key=turn.key,
            locale=turn.locale,
            title=answers.get("title", ""),
            description=answers.get("description", ""),
            created_at=turn.now,
            customer_id=int(customer) if customer else None,
            contract=answers.get("contract"),
            device=answers.get("device"),
            cc=tuple(a for a in answers.get("cc", "").split(", ") if a),
            attachments=attachments_from_json(answers.get(FILES)),
        )
        turn.effects.append(OpenTicket(ticket))
        for draft in ("title", "description", "contract", "device", "cc", FILES, LINES):
            answers.pop(draft, None)
        answers[REF] = ref
        answers[NUMBER] = ""  # known once the records have it
        return self.options.next
