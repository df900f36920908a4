"""Plain step kinds: info, ask, choose, consent, branch, end."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dialogs.effects import LinkCustomer
from dialogs.events import Event, EventKind
from dialogs.i18n import N_
from dialogs.replies import Button, ButtonKind, Text
from dialogs.state import Status
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.turn import MarkKind, Turn
from dialogs.validators import DEFAULT_INVALID, VALIDATORS, Invalid

NOT_TEXT = N_("Please answer with a text message.")
PICK_ONE = N_("Please choose one of the buttons below.")


def step_button(step_id: str, value: str, label: Text) -> Button:
    return Button(label, ButtonKind.CALLBACK, f"s:{step_id}:{value}")


@register
class Info(Step):
    """Say something, then move straight on."""

    kind = "info"
    waits = False

    class Options(StepOptions):
        text: Message
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        turn.say(turn.text(self.options.text))
        return self.options.next


class TextOptions(StepOptions):
    text: Message


class TextAnswer(Step):
    """A step that asks its ``text`` and takes a typed answer: anything else (a photo, a
    stray button) is refused with the same words everywhere. Subclasses write :meth:`answer`."""

    options: TextOptions

    def prompt(self, turn: Turn) -> None:
        turn.say(turn.text(self.options.text))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        if event.kind is not EventKind.TEXT:
            turn.say(Text(NOT_TEXT))
            return None
        return await self.answer(turn, event.text)

    async def answer(self, turn: Turn, text: str) -> str | None:
        """Check and keep the typed ``text``; return where to go, or None after saying why."""
        raise NotImplementedError


@register
class Ask(TextAnswer):
    """Ask for a text answer, check it with a named validator, save the normalised value."""

    kind = "ask"

    class Options(TextOptions):
        validator: str = Field("text", alias="validate")
        invalid: Message | None = None
        save_as: str | None = None
        next: Target

    options: Options

    async def answer(self, turn: Turn, text: str) -> str | None:
        try:
            value = VALIDATORS[self.options.validator](text)
        except Invalid as exc:
            default = exc.message or DEFAULT_INVALID[self.options.validator]
            invalid = self.options.invalid or default
            turn.say(turn.text(invalid))
            return None
        turn.state.answers[self.options.save_as or self.id] = value
        return self.options.next


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Message
    value: str
    next: Target


@register
class Choose(Step):
    """Offer buttons; typed text matching a label (or its number) counts too."""

    kind = "choose"

    class Options(StepOptions):
        text: Message
        options: list[Choice]
        save_as: str | None = None

    options: Options

    def choices(self) -> list[Choice]:
        return self.options.options

    def question(self) -> str:
        return self.options.text

    def prompt(self, turn: Turn) -> None:
        buttons = tuple(step_button(self.id, c.value, Text(c.label)) for c in self.choices())
        turn.say(turn.text(self.question()), buttons)

    async def handle(self, turn: Turn, event: Event) -> str | None:
        choice = self._match(turn, event)
        if choice is None:
            turn.say(Text(PICK_ONE))
            self.prompt(turn)
            return None
        turn.state.answers[self.save_key()] = choice.value
        return choice.next

    def save_key(self) -> str:
        return self.options.save_as or self.id

    def _match(self, turn: Turn, event: Event) -> Choice | None:
        wanted = event.text.strip().casefold()
        for number, choice in enumerate(self.choices(), start=1):
            label = turn.services.catalogs.gettext(choice.label, turn.locale).casefold()
            if event.kind is EventKind.BUTTON and wanted == choice.value.casefold():
                return choice
            if event.kind is EventKind.TEXT and wanted in (label, str(number)):
                return choice
        return None


YES = N_("Yes")
NO = N_("No")


@register
class Consent(Choose):
    """A yes/no question (declarations, opt-ins); saves ``yes`` or ``no``.

    The targets are ``accept`` and ``decline``: YAML 1.1 would read ``yes:``/``no:`` keys as
    booleans."""

    kind = "consent"

    class Options(StepOptions):
        text: Message
        accept: Target
        decline: Target
        yes_label: Message = YES
        no_label: Message = NO
        save_as: str | None = None

    options: Options  # type: ignore[assignment]

    def choices(self) -> list[Choice]:
        o = self.options
        return [
            Choice(label=o.yes_label, value="yes", next=o.accept),
            Choice(label=o.no_label, value="no", next=o.decline),
        ]


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: str
    op: Literal["equals", "in", "set", "unset"] = "equals"
    value: str | list[str] | None = None
    next: Target

    def holds(self, answers: dict[str, str]) -> bool:
        got = answers.get(self.answer)
        if self.op == "set":
            return bool(got)
        if self.op == "unset":
            return not got
        if self.op == "in":
            return isinstance(self.value, list) and got in self.value
        return got == self.value


@register
class Branch(Step):
    """Go to the first case whose condition on the collected answers holds."""

    kind = "branch"
    waits = False

    class Options(StepOptions):
        cases: list[Case]
        default: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        for case in self.options.cases:
            if case.holds(turn.state.answers):
                return case.next
        return self.options.default


AFTER_END = N_("You have finished this conversation. Send /start to begin again or /help for help.")


@register
class End(Step):
    kind = "end"

    class Options(StepOptions):
        text: Message

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        turn.state.status = Status.DONE
        turn.mark(MarkKind.FINISHED, outcome=self.id)
        turn.state.codes.clear()
        if turn.state.flow == turn.state.home:
            turn.state.home_done = True
        turn.say(turn.text(self.options.text))
        if turn.state.customer_id is not None:
            turn.effects.append(LinkCustomer(turn.key, turn.state.customer_id, turn.now))
        return None

    def prompt(self, turn: Turn) -> None:
        turn.say(Text(AFTER_END))
