"""The dialog engine: one neutral event in, replies and effects out.

Each update is one optimistic transaction on the conversation::

    snapshot = store.begin(key, update_id)      # de-duplicate + load   (1 round trip)
    ...decide, with read-only look-ups...
    store.commit(key, version, new_state)       # compare-and-set + TTL (1 round trip)

On a conflict (another worker committed first) the turn is recomputed on the fresh state, so
each update is applied exactly once. What the turn owes (replies and effects) is written by
the same commit (:mod:`dialogs.owed`) and handed back for a dispatcher to deliver.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from dataclasses import dataclass

from dialogs.commands import COMMANDS, human, set_language, unknown
from dialogs.effects import Effect
from dialogs.errors import ConflictError
from dialogs.events import ConversationKey, Event, EventKind
from dialogs.flow import Flow, FlowRegistry, same_step
from dialogs.help_ticket import BACK_BUTTON, follow_help_ticket, waiting_question
from dialogs.i18n import N_, negotiate
from dialogs.navigation import Navigator
from dialogs.owed import JsonCodec, OwedCodec, OwedItem, commit_nonce, owed_items
from dialogs.ports import CommitResult, StateStore, TurnObserver
from dialogs.privacy import BUTTON_PREFIX as FORGET_PREFIX
from dialogs.privacy import forget_button
from dialogs.replies import Reply, Text
from dialogs.state import ConversationState, Status
from dialogs.turn import Mark, MarkKind, Services, Turn

IDLE = N_("Send /start to begin.")
STALE_BUTTON = N_("That button belongs to an earlier question. Here is the current one:")
NEED_HELP = N_("Having trouble? Send /human and a person from our team will help you.")
FLOW_CHANGED = N_("Our registration steps have changed since your last visit. Let us start again.")
HELP_HINT_AFTER = 3
BACKOFF_SECONDS = 0.002


@dataclass(frozen=True, slots=True)
class Outcome:
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...]
    locale: str
    duplicate: bool = False
    items: tuple[OwedItem, ...] = ()
    """What the commit stored as owed: the replies and effects, in delivery order."""
    lead: bool = True
    """The commit took the conversation's delivery lease (see CommitResult.LEAD)."""
    marks: tuple[Mark, ...] = ()  # what operations count (bot/ops/observe.py)
    attempts: int = 1  # more than one: recomputed after a compare-and-set conflict


DUPLICATE_OUTCOME = Outcome((), (), "en", duplicate=True)


class Engine:
    def __init__(
        self,
        flows: FlowRegistry,
        store: StateStore,
        services: Services,
        *,
        default_flow: str | None = None,
        max_attempts: int = 16,
        codec: OwedCodec | None = None,
        observer: TurnObserver | None = None,
    ) -> None:
        self.flows = flows
        self.store = store
        self.services = services
        self.nav = Navigator(flows, default_flow)
        self.max_attempts = max_attempts
        self.codec = codec or JsonCodec()
        self.observer = observer
        self._locks: dict[ConversationKey, tuple[asyncio.Lock, int]] = {}

    async def handle(self, event: Event, *, silent: bool = False) -> Outcome:
        """Apply one event to its conversation (``EventKind.SIGNAL`` events come from our own
        side, e.g. a web page, through the same atomic path as customer input). ``silent``:
        the turn's replies are not owed (a step that a following turn speaks for)."""
        # One chat's updates in turn inside this process: fewer compare-and-set conflicts.
        # Correctness across processes does not depend on it (the store's CAS does that).
        # (A lock per chat while it has turns here; written out, not as a context manager:
        # this runs for every update.)
        key = event.key
        held = self._locks.get(key)
        lock, users = held if held is not None else (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self.observer is None:
                    return await self._handle(event, silent)
                started = time.perf_counter()
                try:
                    outcome = await self._handle(event, silent)
                except Exception:
                    self.observer.turn_failed(event, time.perf_counter() - started)
                    raise
                self.observer.turn_applied(event, outcome, time.perf_counter() - started)
                return outcome
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _handle(self, event: Event, silent: bool = False) -> Outcome:
        for attempt in range(self.max_attempts):
            if attempt:
                await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** min(attempt, 6)))  # noqa: S311
            snapshot = await self.store.begin(event.key, event.update_id)
            if snapshot.duplicate:
                return DUPLICATE_OUTCOME
            turn = self._turn(event, ConversationState.decode(snapshot.data))
            await self._dispatch(turn, event)
            turn.state.updated_at = turn.now
            self._stamp(turn.state)
            data = turn.state.encode()
            items = owed_items(
                event.key,
                version=snapshot.version + 1,
                update_id=event.update_id,
                locale=turn.locale,
                effects=turn.effects,
                reply_list=() if silent else turn.replies,
                nonce=commit_nonce(turn.now),
            )
            owed = [(item.id, self.codec.encode(item)) for item in items]
            result = await self.store.commit(
                event.key, snapshot.version, data, event.update_id, owed
            )
            if result is CommitResult.DUPLICATE:
                return DUPLICATE_OUTCOME
            if result:
                return Outcome(
                    tuple(turn.replies),
                    tuple(turn.effects),
                    turn.locale,
                    items=items,
                    lead=result is CommitResult.LEAD,
                    marks=tuple(turn.marks),
                    attempts=attempt + 1,
                )
        raise ConflictError(event.key, self.max_attempts)

    def _turn(self, event: Event, state: ConversationState) -> Turn:
        if state.locale is None:
            state.locale = negotiate(event.language_code)
        flow = self.flows.get(state.flow)
        return Turn(event.key, state, flow, self.services, self.services.clock())

    async def _dispatch(self, turn: Turn, event: Event) -> None:
        if await follow_help_ticket(turn, event):
            return
        if event.kind is EventKind.COMMAND:
            await COMMANDS.get(event.command or "", unknown)(self.nav, turn, event)
            return
        if event.kind is EventKind.BUTTON and await self._global_button(turn, event):
            return
        if turn.state.status is not Status.ACTIVE:
            if event.kind is not EventKind.SIGNAL:
                self._idle(turn)
            return
        if turn.flow is None or not self._step_unchanged(turn.flow, turn.state):
            turn.say(Text(FLOW_CHANGED))
            await self.nav.start_default(turn)
            return
        await self._step(turn, event)

    @staticmethod
    def _step_unchanged(flow: Flow, state: ConversationState) -> bool:
        """The step the customer is answering exists here with the same kind and options
        (another worker may have written the state with another copy of the flow file)."""
        current = flow.revisions.get(state.step or "")
        return current is not None and same_step(state.revision, current)

    def _stamp(self, state: ConversationState) -> None:
        """Record the revision of the step the state waits at (see :mod:`dialogs.flow`)."""
        flow = self.flows.get(state.flow)
        state.revision = "" if flow is None else flow.revisions.get(state.step or "", "")

    def _idle(self, turn: Turn) -> None:
        if turn.state.status is Status.DONE and turn.flow and turn.state.step in turn.flow.steps:
            turn.flow.steps[turn.state.step].prompt(turn)
        else:
            turn.say(Text(IDLE))

    async def _global_button(self, turn: Turn, event: Event) -> bool:
        prefix, _, value = event.text.partition(":")
        if prefix == "lang":
            set_language(self.nav, turn, value)
        elif prefix == FORGET_PREFIX:
            await forget_button(self.nav, turn, value)
        elif prefix == "flow" and (flow := self.flows.get(value)) is not None:
            await self.nav.start(turn, flow)
        elif prefix == "s":
            return False
        elif event.text == BACK_BUTTON and waiting_question(turn):
            self.nav.reprompt(turn)  # the help ticket is left: the paused question again
        elif event.text == BACK_BUTTON:
            self._idle(turn)
        else:
            turn.say(Text(STALE_BUTTON))
            self.nav.reprompt(turn)
        return True

    async def _step(self, turn: Turn, event: Event) -> None:
        flow, step_id = turn.flow, turn.state.step
        if flow is None or step_id is None:
            return
        if turn.state.parked == step_id:
            # Parked on a look-up the CRM could not answer: any message or the button tries
            # the look-up again with the answers kept.
            await self.nav.goto(turn, step_id)
            return
        if event.kind is EventKind.BUTTON:
            owner, _, value = event.text[2:].partition(":")
            if owner != step_id:
                turn.say(Text(STALE_BUTTON))
                self.nav.reprompt(turn)
                return
            event = dataclasses.replace(event, text=value)
        target = await flow.steps[step_id].handle(turn, event)
        if target is None:
            if event.kind is not EventKind.BUTTON:  # a press of "send again" is no mistake
                self._count_attempt(turn, step_id)
        elif target == "@human":  # a button's value ("human") is no reason for the ticket
            reason = "" if event.kind is EventKind.BUTTON else event.text
            await human(self.nav, turn, dataclasses.replace(event, text=reason))
        elif target == "@cancel":
            await COMMANDS["cancel"](self.nav, turn, event)
        elif target == "@restart":
            await self.nav.start(turn, flow, home=turn.state.home == flow.id)
        else:
            await self.nav.goto(turn, target)

    def _count_attempt(self, turn: Turn, step_id: str) -> None:
        count = turn.state.attempts.get(step_id, 0) + 1
        turn.state.attempts[step_id] = count
        turn.mark(MarkKind.INVALID, step_id)
        if count == HELP_HINT_AFTER:
            turn.say(Text(NEED_HELP))
