"""Where each flow text appears, and a Babel extraction method that tells translators so.

Every message id a flow uses (its title, each step's ``Message`` fields, and the defaults a
step kind supplies) becomes a template entry located at the step's line in the flow file, with
a translator comment naming the flow, the step, the field, whether it is a chat message or a
button label (and Telegram's limit for it), and what each ``{placeholder}`` holds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, get_args, get_origin

import yaml
from pydantic import BaseModel

from dialogs.flow import Flow, load_flow
from dialogs.render import placeholders
from dialogs.steps.base import MESSAGE_MARK, Step

BUTTON_LIMIT = 64
"""Our limit for button labels: Telegram cuts long labels on phones well before its own cap."""
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
LIMITS = {"button": BUTTON_LIMIT, "message": MESSAGE_LIMIT, "caption": CAPTION_LIMIT}
ROLE_NOTES = {
    "button": f"a button label (at most {BUTTON_LIMIT} characters)",
    "message": f"a chat message (at most {MESSAGE_LIMIT} characters)",
    "caption": f"a media caption (at most {CAPTION_LIMIT} characters)",
}
BUTTON_FIELDS = frozenset({"label", "button", "yes_label", "no_label"})

ENGINE_PARAMS: dict[tuple[str, str], dict[str, str]] = {
    ("code", "text"): {
        "length": "the number of digits in the code",
        "address": "the e-mail address or phone number the code was sent to",
    },
    ("handoff", "text"): {
        "minutes": "how long the link stays valid, with its unit (e.g. “30 minutes”)"
    },
    ("code", "mail_body"): {"code": "the one-time code", "minutes": "how long it is valid"},
    ("code", "sms_body"): {"code": "the one-time code", "minutes": "how long it is valid"},
    ("phone", "invalid"): {"example": "an example phone number"},
}


@dataclass(frozen=True, slots=True)
class FlowText:
    """One use of a message id in a flow."""

    flow_id: str
    step_id: str | None  # None: the flow's title
    kind: str
    field: str
    message: str
    role: str  # "message" | "button" | "caption"

    def note(self, holders: Mapping[str, str]) -> str:
        where = f"step {self.step_id} ({self.kind}), {self.field}" if self.step_id else self.field
        text = f"flow {self.flow_id}, {where}: {ROLE_NOTES[self.role]}"
        names = sorted(placeholders(self.message))
        if names:
            described = "; ".join(
                f"{{{n}}} = {holders.get(n, 'filled in by the bot')}" for n in names
            )
            text += f". Placeholders (keep them as they are): {described}"
        return text


def _has_mark(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return MESSAGE_MARK in annotation.__metadata__
    return any(_has_mark(arg) for arg in get_args(annotation))


def _message_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(field path, message id) for every ``Message`` field, also inside nested models."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is not None and (MESSAGE_MARK in info.metadata or _has_mark(info.annotation)):
            yield prefix + name, value
        items = value if isinstance(value, list | tuple) else [value]
        for index, item in enumerate(items):
            if isinstance(item, BaseModel):
                suffix = f"[{index}]" if isinstance(value, list | tuple) else ""
                yield from _message_fields(item, f"{prefix}{name}{suffix}.")


def step_texts(flow: Flow, step: Step) -> Iterator[FlowText]:
    for path, message in _message_fields(step.options):
        leaf = path.rsplit(".", 1)[-1]
        role = "button" if leaf in BUTTON_FIELDS else "message"
        yield FlowText(flow.id, step.id, step.kind, path, message, role)


def flow_texts(flow: Flow) -> Iterator[FlowText]:
    yield FlowText(
        flow.id, None, "flow", "title (on the flow's start button)", flow.title, "button"
    )
    for step in flow.steps.values():
        yield from step_texts(flow, step)


def placeholder_holders(flow: Flow, text: FlowText) -> dict[str, str]:
    """What each placeholder of ``text`` is filled with, for the translator comment."""
    holders = {"customer_name": "the customer's name from the CRM"}
    for step in flow.steps.values():
        key = getattr(step.options, "save_as", None) or step.id
        holders[key] = f"the customer's answer to step {step.id}"
    holders.update(ENGINE_PARAMS.get((text.kind, text.field), {}))
    return holders


def step_lines(source: str) -> dict[str, int]:
    """Line of each step's key in the flow file (1-based)."""
    root = yaml.compose(source)
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if key.value == "steps" and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value}
    return {}


def extract_flow(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method for flow files (``[bot.maint.flow_texts:extract_flow: …]``)."""
    source = fileobj.read().decode("utf-8")
    flow = load_flow(Path(getattr(fileobj, "name", "flow.yaml")))
    lines = step_lines(source)
    for text in flow_texts(flow):
        line = lines.get(text.step_id, 1) if text.step_id else _title_line(source)
        yield line, None, text.message, [text.note(placeholder_holders(flow, text))]


def _title_line(source: str) -> int:
    for number, line in enumerate(source.splitlines(), start=1):
        if line.startswith("title:"):
            return number
    return 1
