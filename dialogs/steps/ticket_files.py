"""Files for a ticket: photos and documents kept by the messaging app's file id (never
downloaded by the engine), refused above what a bot may receive, cached in the answers as JSON
until the ticket is filed (the ``collect_files`` step; the ticket dialogue's follow-ups too)."""

from __future__ import annotations

import json

from babel.numbers import format_decimal

from dialogs.events import Event, EventKind, FileRef
from dialogs.i18n import N_
from dialogs.ports import Attachment
from dialogs.replies import Text, say
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.steps.basic import step_button
from dialogs.turn import Turn

FILES = "ticket_files"
MAX_FILE_BYTES = 20 * 1024 * 1024  # what a Telegram bot may receive (getFile limit)
# TRANSLATORS: button label
CONTINUE = N_("Continue")
FILE_RECEIVED = N_("Received: {name}. Send more, or press Continue.")
PHOTO = N_("photo")
FILE_TOO_BIG = N_(
    "This file is {size} MB, but we can accept files of up to {limit} MB. Please send a "
    "smaller one (for example, compress the logs or split them)."
)
TOO_MANY_FILES = N_("That is as many files as one ticket can take ({limit}). Press Continue.")
SEND_A_FILE = N_("Please send a photo or a document, or press Continue.")


def accepted(turn: Turn, step_id: str) -> None:
    """The input was taken although the step stays: the engine counts a step that stays
    after text as a mistake (hinting at /human after three), so start that count below 0."""
    turn.state.attempts[step_id] = -1


def files_of(event: Event) -> tuple[Attachment, ...]:
    return tuple(_attachment(f, event.message_id) for f in event.files)


def _attachment(ref: FileRef, message_id: int | None) -> Attachment:
    return Attachment(ref.file_id, ref.kind, message_id, ref.name, ref.size)


def too_big(turn: Turn, event: Event) -> bool:
    """Refuse (and say so) files a bot cannot take; True if one of them is too big."""
    for ref in event.files:
        if ref.size is not None and ref.size > MAX_FILE_BYTES:
            size = format_decimal(ref.size / 1024 / 1024, "0.0", locale=turn.locale)
            turn.say(say(FILE_TOO_BIG, size=size, limit=MAX_FILE_BYTES // 1024 // 1024))
            return True
    return False


def attachments_to_json(items: tuple[Attachment, ...]) -> str:
    return json.dumps([[a.file_id, a.kind, a.message_id, a.name, a.size] for a in items])


def attachments_from_json(data: str | None) -> tuple[Attachment, ...]:
    return tuple(Attachment(*row) for row in json.loads(data or "[]"))


@register
class CollectFiles(Step):
    """Photos and documents, kept by Telegram ``file_id`` (never downloaded), until Continue."""

    kind = "collect_files"

    class Options(StepOptions):
        text: Message
        max_files: int = 10
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        turn.state.answers.pop(FILES, None)
        self.prompt(turn)
        return None

    def prompt(self, turn: Turn) -> None:
        turn.say(turn.text(self.options.text), (step_button(self.id, "done", Text(CONTINUE)),))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        if event.kind is EventKind.BUTTON and event.text == "done":
            return self.options.next
        if event.kind is not EventKind.FILE:
            turn.say(Text(SEND_A_FILE), (step_button(self.id, "done", Text(CONTINUE)),))
            return None
        collected = attachments_from_json(turn.state.answers.get(FILES))
        if too_big(turn, event):
            return None
        if len(collected) + len(event.files) > self.options.max_files:
            turn.say(say(TOO_MANY_FILES, limit=self.options.max_files))
            return None
        turn.state.answers[FILES] = attachments_to_json((*collected, *files_of(event)))
        name = event.files[0].name or turn.services.catalogs.gettext(PHOTO, turn.locale)
        buttons = (step_button(self.id, "done", Text(CONTINUE)),)
        turn.say(say(FILE_RECEIVED, name=name), buttons)
        accepted(turn, self.id)
        return None
