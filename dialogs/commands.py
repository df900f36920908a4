"""The commands every flow understands: /start, /back, /cancel, /language, /help, /human,
/ticket, /tickets, and the privacy ones (/mydata, /forget: dialogs/privacy.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialogs.events import Event
from dialogs.help_ticket import ask_for_a_person
from dialogs.i18n import LANGUAGE_NAMES, N_, SUPPORTED_LOCALES
from dialogs.navigation import Navigator
from dialogs.privacy import forget, mydata
from dialogs.replies import Button, ButtonKind, Text, say
from dialogs.state import Status
from dialogs.steps.tickets import registered_customer
from dialogs.turn import MarkKind, Turn

RESUME = N_("Welcome back! Let us continue where you left off.")
UNKNOWN_LINK = N_("That link is not valid (any more). Here is how we can continue:")
CANCELLED = N_("Cancelled. Your answers are deleted. Send /start to begin again.")
CHOOSE_LANGUAGE = N_("Choose your language:")
LANGUAGE_SET = N_("Language set: {language}.")
HELP = N_(
    "I guide you through registering for our customer portal, step by step.\n\n"
    "/start – begin or continue\n"
    "/back – go back to the previous question\n"
    "/cancel – stop and delete your answers\n"
    "/language – change the language\n"
    "/human – ask a person from our support team\n"
    "/ticket – file a support ticket\n"
    "/tickets – your tickets and their answers\n"
    "/mydata – what we keep about you\n"
    "/forget – delete what we keep about you\n"
    "/help – show this message"
)
TICKET_FLOW = "support-ticket"  # dialogs/flows/support-ticket.yaml
LIST_STEP = "tickets"  # the step of that flow where /tickets enters
NOT_REGISTERED = N_(
    "Tickets are for registered customers. Please register first (send /start), or send "
    "/human and a person from our team will help you."
)
NO_TICKETS = N_("You have no tickets yet. Send /ticket to file one.")
UNKNOWN_COMMAND = N_("I do not know that command. Send /help to see what I can do.")

Command = Callable[[Navigator, Turn, Event], Awaitable[None]]


async def start(nav: Navigator, turn: Turn, event: Event) -> None:
    payload = event.text.strip()
    flow = nav.flows.get(payload) if payload else None
    if flow is not None:
        await nav.start(turn, flow)
    elif payload:
        turn.say(Text(UNKNOWN_LINK))
        await nav.start_default(turn)
    elif turn.state.status is Status.ACTIVE and turn.flow is not None:
        turn.say(Text(RESUME))
        nav.reprompt(turn)
    else:
        await nav.start_home(turn)


async def back(nav: Navigator, turn: Turn, event: Event) -> None:
    nav.back(turn)


async def cancel(nav: Navigator, turn: Turn, event: Event) -> None:
    if turn.state.status is Status.ACTIVE:
        turn.mark(MarkKind.FINISHED, outcome="cancelled")
    turn.state.reset_flow()
    turn.flow = None
    turn.say(Text(CANCELLED), remove_keyboard=True)


def offer_languages(turn: Turn) -> None:
    buttons = tuple(
        Button(Text(LANGUAGE_NAMES[code], literal=True), ButtonKind.CALLBACK, f"lang:{code}")
        for code in SUPPORTED_LOCALES
    )
    turn.say(Text(CHOOSE_LANGUAGE), buttons)


async def language(nav: Navigator, turn: Turn, event: Event) -> None:
    offer_languages(turn)


def set_language(nav: Navigator, turn: Turn, code: str) -> None:
    if code not in SUPPORTED_LOCALES:
        offer_languages(turn)
        return
    turn.state.locale = code
    turn.say(say(LANGUAGE_SET, language=LANGUAGE_NAMES[code]))
    nav.reprompt(turn)


async def help_(nav: Navigator, turn: Turn, event: Event) -> None:
    turn.say(Text(HELP))
    nav.reprompt(turn)


async def human(nav: Navigator, turn: Turn, event: Event) -> None:
    turn.mark(MarkKind.HUMAN)  # on the step the customer asked from
    ask_for_a_person(nav, turn, event.text)


async def ticket(nav: Navigator, turn: Turn, event: Event) -> None:
    """File a support ticket: registered customers only (a finished flow links them)."""
    flow = nav.flows.get(TICKET_FLOW)
    if flow is None or await registered_customer(turn) is None:
        turn.say(Text(NOT_REGISTERED))
        nav.reprompt(turn)
        return
    await nav.start(turn, flow, home=False)


async def tickets(nav: Navigator, turn: Turn, event: Event) -> None:
    """The user's tickets, newest first; a running flow is left alone when there are none."""
    flow, lookup = nav.flows.get(TICKET_FLOW), turn.services.tickets
    if (
        flow is None
        or LIST_STEP not in flow.steps
        or lookup is None
        or not await lookup.tickets_of(turn.key)
    ):
        turn.say(Text(NO_TICKETS))
        nav.reprompt(turn)
        return
    turn.state.reset_flow()
    turn.state.flow, turn.state.status, turn.flow = flow.id, Status.ACTIVE, flow
    await nav.goto(turn, LIST_STEP)


async def unknown(nav: Navigator, turn: Turn, event: Event) -> None:
    turn.say(Text(UNKNOWN_COMMAND))
    nav.reprompt(turn)


COMMANDS: dict[str, Command] = {
    "start": start,
    "back": back,
    "cancel": cancel,
    "language": language,
    "help": help_,
    "human": human,
    "ticket": ticket,
    "tickets": tickets,
    "mydata": mydata,
    "forget": forget,
}
