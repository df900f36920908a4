"""The step-kind protocol and its registry.

A step kind is a small class: a pydantic ``Options`` model (what a flow file may write under the
step) and three hooks. Fields annotated :data:`Target` name other steps (or ``@actions``), fields
annotated :data:`Message` are gettext message ids; the flow loader checks both generically.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from dialogs.errors import ConfigError
from dialogs.events import Event
from dialogs.turn import Turn

TARGET_MARK = "flow-target"
MESSAGE_MARK = "flow-message"
Target = Annotated[str, TARGET_MARK]
Message = Annotated[str, MESSAGE_MARK]

T = TypeVar("T")

ACTIONS = frozenset({"@human", "@cancel", "@restart"})
"""Targets that are engine actions instead of steps."""


def wired(service: T | None, step_id: str, what: str) -> T:
    """The service a step needs from :class:`~dialogs.turn.Services`, or a ConfigError naming
    the step and ``what`` is missing (a composition root that did not wire it)."""
    if service is None:
        raise ConfigError(f"step {step_id!r} needs {what}, which is not wired")
    return service


class StepOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str


def _has_mark(annotation: Any, mark: str) -> bool:
    """True if ``mark`` annotates the type, also inside ``X | None``."""
    if get_origin(annotation) is Annotated:
        return mark in annotation.__metadata__
    return any(_has_mark(arg, mark) for arg in get_args(annotation))


def _marked(model: BaseModel, mark: str) -> Iterator[tuple[str, Any]]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        marked = mark in info.metadata or _has_mark(info.annotation, mark)
        if marked and value is not None:
            yield name, value
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, BaseModel):
                yield from _marked(item, mark)


class Step:
    kind: ClassVar[str]
    Options: ClassVar[type[StepOptions]] = StepOptions
    waits: ClassVar[bool] = True
    """Waits for the customer's input; only such steps go into the ``/back`` history."""

    def __init__(self, step_id: str, options: StepOptions) -> None:
        self.id = step_id
        self.options = options

    def targets(self) -> list[tuple[str, str]]:
        """(field, target) pairs: every place this step may lead to."""
        return list(_marked(self.options, TARGET_MARK))

    def messages(self) -> list[str]:
        """The message ids this step takes from its flow file (or their defaults)."""
        return [value for _, value in _marked(self.options, MESSAGE_MARK)]

    async def enter(self, turn: Turn) -> str | None:
        """Arrive at the step: do its work, ask its question. Return a target to move on."""
        self.prompt(turn)
        return None

    def prompt(self, turn: Turn) -> None:
        """(Re-)ask the step's question without side effects."""

    async def handle(self, turn: Turn, event: Event) -> str | None:
        """Handle input; return where to go, or None to stay (after saying why)."""
        return None


STEP_KINDS: dict[str, type[Step]] = {}


def register(kind_class: type[Step]) -> type[Step]:
    """Class decorator: make a step kind available to flow files by its ``kind`` name."""
    if kind_class.kind in STEP_KINDS:
        raise ValueError(f"step kind {kind_class.kind!r} registered twice")
    STEP_KINDS[kind_class.kind] = kind_class
    return kind_class
