"""/forget and /mydata (issue 20): the customer's rights to erasure and to a copy of their
data. The turn decides and owes an effect; the erasure and the document are made after the
commit (bot/privacy.py), like every other effect.

/forget asks first (a button): erasing cannot be undone. Confirmed, the turn forgets the
conversation at once (the committed state is empty but for the language) and owes a
:class:`~dialogs.effects.ForgetCustomer`, which erases the stored records and then the
conversation itself. Pressed again, or after everything is gone, it erases nothing new.
"""

from __future__ import annotations

import json

from dialogs.effects import ExportData, ForgetCustomer
from dialogs.events import Event
from dialogs.i18n import N_
from dialogs.navigation import Navigator
from dialogs.replies import Button, ButtonKind, Text
from dialogs.state import ConversationState
from dialogs.turn import Turn

FORGET_ASK = N_(
    "Do you want us to delete everything we keep about you from this chat: your answers, "
    "links and codes, your registration link to this chat, and the content of your tickets? "
    "This cannot be undone."
)
FORGET_YES = N_("Yes, delete my data")
FORGET_NO = N_("No, keep it")
FORGET_KEPT = N_("Nothing was deleted.")
BUTTON_PREFIX = "forget"
YES, NO = "yes", "no"


async def forget(nav: Navigator, turn: Turn, event: Event) -> None:
    buttons = (
        Button(Text(FORGET_YES), ButtonKind.CALLBACK, f"{BUTTON_PREFIX}:{YES}"),
        Button(Text(FORGET_NO), ButtonKind.CALLBACK, f"{BUTTON_PREFIX}:{NO}"),
    )
    turn.say(Text(FORGET_ASK), buttons)


async def forget_button(nav: Navigator, turn: Turn, value: str) -> None:
    """The answer to :func:`forget`'s question."""
    if value != YES:
        turn.say(Text(FORGET_KEPT))
        nav.reprompt(turn)
        return
    # No funnel mark: its step event, written after the erasure, would name the customer's
    # keyed hash again (the funnel counts a flow left this way as abandoned).
    turn.state = ConversationState(locale=turn.state.locale)
    turn.flow = None
    turn.effects.append(ForgetCustomer(turn.key, turn.now))  # it tells the customer


async def mydata(nav: Navigator, turn: Turn, event: Event) -> None:
    """The document is made and sent after the commit; the conversation goes on as it was."""
    turn.effects.append(ExportData(turn.key, exported_state(turn.state), turn.now))


def exported_state(state: ConversationState) -> str:
    """The conversation as JSON for /mydata: everything but the codes' digests (a one-time
    code is never shown again, not even hashed); when each code was sent stays."""
    data = state.model_dump(mode="json", exclude={"codes"})
    data["codes"] = {
        name: {"issued_at": code.issued_at, "sends": code.sends}
        for name, code in state.codes.items()
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
