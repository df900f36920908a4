"""Moving through a flow: starting, going to a step, re-asking, going back."""

from __future__ import annotations

import logging

from dialogs.errors import FlowError, LookupUnavailable
from dialogs.flow import Flow, FlowRegistry
from dialogs.i18n import N_
from dialogs.replies import Button, ButtonKind, Text, say
from dialogs.state import Status
from dialogs.turn import MarkKind, Turn
from dialogs.validators import display_phone

MAX_HOPS = 50
HISTORY_LIMIT = 30

CHOOSE_FLOW = N_("Welcome! What would you like to do?")
PREVIOUS_ANSWER = N_("Your previous answer was: {answer}. Send a new one, or the same again.")
NOTHING_BEFORE = N_("There is no earlier question to go back to.")
LOOKUP_DOWN = N_(
    "We cannot check your details right now because our customer system is not answering. "
    "Your answers are kept. Please try again in a few minutes."
)
TRY_AGAIN = N_("Try again")
RETRY_VALUE = "retry"
REGISTERED = N_(
    "You are already registered: this registration is complete. Send /ticket to file a support "
    "ticket, /tickets to see your tickets, or /human to talk to a person."
)

log = logging.getLogger(__name__)


class Navigator:
    def __init__(self, flows: FlowRegistry, default_flow: str | None) -> None:
        self.flows = flows
        self.default_flow = default_flow

    def offer_flows(self, turn: Turn) -> None:
        buttons = tuple(
            Button(Text(flow.title), ButtonKind.CALLBACK, f"flow:{flow.id}") for flow in self.flows
        )
        turn.say(Text(CHOOSE_FLOW), buttons)

    async def start_default(self, turn: Turn) -> None:
        flow = self.flows.get(self.default_flow)
        if flow is None and len(self.flows) == 1:
            flow = next(iter(self.flows))
        if flow is None:
            self.offer_flows(turn)
        else:
            await self.start(turn, flow)

    async def start_home(self, turn: Turn) -> None:
        """/start with no flow running: the customer's own flow again (or, when that flow opens
        only with an invitation and they finished it, that they are registered); the default
        flow only for someone who never started one."""
        home = self.flows.get(turn.state.home)
        if home is None:
            await self.start_default(turn)
        elif turn.state.home_done and home.steps[home.start].kind == "invitation":
            turn.say(Text(REGISTERED))
        else:
            await self.start(turn, home)

    async def start(self, turn: Turn, flow: Flow, *, home: bool = True) -> None:
        """Start ``flow``; ``home=False`` for side flows (a ticket) that /start does not
        return to."""
        turn.state.reset_flow()
        if home and turn.state.home != flow.id:
            turn.state.home, turn.state.home_done = flow.id, False
        turn.state.flow, turn.state.status = flow.id, Status.ACTIVE
        turn.flow = flow
        await self.goto(turn, flow.start)

    async def goto(self, turn: Turn, target: str) -> None:
        """Enter ``target`` and keep going through steps that do not wait for input."""
        flow = turn.flow
        if flow is None:
            raise FlowError("goto without a running flow")
        turn.state.parked = None
        for _ in range(MAX_HOPS):
            step = flow.steps[target]
            turn.state.step = target
            turn.state.attempts.pop(target, None)
            turn.mark(MarkKind.ENTERED, target)
            if step.waits and turn.state.history[-1:] != [target]:
                turn.state.history = [*turn.state.history, target][-HISTORY_LIMIT:]
            try:
                following = await step.enter(turn)
            except LookupUnavailable as exc:
                # Parked on the look-up step: nothing recorded as "not found", the answers
                # kept; the customer's next message or the button enters the step again.
                log.warning("flow %s, step %s: %s", flow.id, target, exc.reason)
                self.lookup_down(turn, target)
                return
            if following is None:
                return
            target = following
        raise FlowError(f"{flow.source}: more than {MAX_HOPS} steps without a question")

    def lookup_down(self, turn: Turn, step_id: str) -> None:
        turn.state.parked = step_id
        button = Button(Text(TRY_AGAIN), ButtonKind.CALLBACK, f"s:{step_id}:{RETRY_VALUE}")
        turn.say(Text(LOOKUP_DOWN), (button,))

    def reprompt(self, turn: Turn) -> None:
        if turn.flow is None or turn.state.step is None:
            return
        if turn.state.parked == turn.state.step:  # a look-up the CRM could not answer
            self.lookup_down(turn, turn.state.step)
            return
        turn.flow.steps[turn.state.step].prompt(turn)

    def back(self, turn: Turn) -> None:
        history = turn.state.history
        if turn.flow is None or len(history) < 2 or turn.state.status is not Status.ACTIVE:
            turn.say(Text(NOTHING_BEFORE))
            self.reprompt(turn)
            return
        history.pop()
        previous = history[-1]
        turn.state.parked = None
        turn.state.step = previous
        answer = turn.state.answers.get(_answer_key(turn.flow, previous))
        if answer:
            turn.say(say(PREVIOUS_ANSWER, answer=display_phone(answer)))
        self.reprompt(turn)


def _answer_key(flow: Flow, step_id: str) -> str:
    save_as = getattr(flow.steps[step_id].options, "save_as", None)
    return save_as if isinstance(save_as, str) else step_id
