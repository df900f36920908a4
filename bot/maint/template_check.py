"""The template against the sources: stale ``messages.pot``, flow texts missing from it, roles.

"Stale" compares what translators work on — message ids, plural ids and contexts — between the
committed template and a fresh extraction; source locations and comments are refreshed by
``onboard locales extract`` but not compared, so moving code around does not fail the check.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message

from bot.maint.entries import source_forms, text_problems
from bot.maint.flow_texts import FlowText, flow_texts, step_lines
from bot.maint.problems import Problem, shorten
from bot.maint.whatsapp_text import WHATSAPP_BUTTON, WHATSAPP_LABELS
from dialogs.errors import FlowLoadError
from dialogs.flow import load_flow
from dialogs.steps.basic import NO, YES
from dialogs.steps.code import CHANGE_EMAIL, CHANGE_PHONE, RESEND
from dialogs.steps.handoff import OPEN
from dialogs.steps.link import RESEND_LINK
from dialogs.steps.phone import SHARE

PYTHON_BUTTONS = frozenset({YES, NO, RESEND, RESEND_LINK, CHANGE_EMAIL, CHANGE_PHONE, OPEN, SHARE})
"""Button labels defined in Python. New ones: add them here or write
``# TRANSLATORS: button label`` above the ``N_`` call."""
EXTRACT = "run `onboard locales extract` and `onboard locales update`"
Key = tuple[str | tuple[str, ...], str | None]


def key(message: Message) -> Key:
    message_id = message.id if isinstance(message.id, str) else tuple(message.id)
    return message_id, message.context


def role_of(message: Message) -> str:
    """``button``, ``caption``, ``message`` or ``whatsapp_button``: decides which limit applies."""
    notes = " ".join(message.auto_comments).lower()
    if message.id in WHATSAPP_LABELS:
        return WHATSAPP_BUTTON
    if message.id in PYTHON_BUTTONS or "button label" in notes:
        return "button"
    return "caption" if "caption" in notes else "message"


def roles(fresh: Catalog) -> dict[Key, str]:
    return {key(message): role_of(message) for message in fresh if message.id}


def stale_template(committed: Catalog, fresh: Catalog, path: Path) -> Iterator[Problem]:
    have = {key(m): m for m in committed if m.id}
    want = {key(m): m for m in fresh if m.id}
    for missing in sorted(want.keys() - have.keys(), key=str):
        where = ", ".join(f"{file}:{line}" for file, line in want[missing].locations)
        text = shorten(source_forms(want[missing])[0])
        yield Problem(str(path), 1, f"stale template: {text} (from {where}) is missing; {EXTRACT}")
    for gone in sorted(have.keys() - want.keys(), key=str):
        message = have[gone]
        text = shorten(source_forms(message)[0])
        yield Problem(
            str(path), message.lineno or 1, f"stale template: {text} is no longer used; {EXTRACT}"
        )
    for obsolete in committed.obsolete.values():
        text = shorten(source_forms(obsolete)[0])
        yield Problem(str(path), obsolete.lineno or 1, f"obsolete entry {text} in the template")


def source_text_problems(
    committed: Catalog, kinds: dict[Key, str], path: Path
) -> Iterator[Problem]:
    """The English source goes out as it is, so it must pass the Telegram checks too."""
    for message in committed:
        if not message.id:
            continue
        role = kinds.get(key(message), role_of(message))
        for text in source_forms(message):
            for problem in text_problems(text, role):
                yield Problem(str(path), message.lineno or 1, f"{shorten(text)}: {problem}")


def flow_ids_missing(flows_dir: Path, committed: Catalog) -> Iterator[Problem]:
    """Every text a flow uses must be in the template, or customers would see English."""
    known = {m.id for m in committed if isinstance(m.id, str)}
    for path in sorted(flows_dir.glob("*.yaml")):
        try:
            flow = load_flow(path)
        except FlowLoadError as exc:
            yield Problem(str(path), 1, str(exc))
            continue
        lines = step_lines(path.read_text(encoding="utf-8"))
        for text in flow_texts(flow):
            if text.message not in known:
                yield Problem(str(path), lines.get(text.step_id or "", 1), _missing(text))


def _missing(text: FlowText) -> str:
    where = f"step {text.step_id}, {text.field}" if text.step_id else "title"
    return f"{where}: {shorten(text.message)} is not in the template; {EXTRACT}"
