"""Telegram ``Update`` → neutral :class:`dialogs.events.Event`. Nothing else."""

from __future__ import annotations

from telegram import Message, Update

from dialogs.events import Contact, ConversationKey, Event, EventKind, FileRef


def _files(message: Message) -> tuple[FileRef, ...]:
    if message.document is not None:
        d = message.document
        return (FileRef(d.file_id, d.file_name, d.file_size, d.mime_type),)
    if message.photo:
        largest = message.photo[-1]
        return (FileRef(largest.file_id, None, largest.file_size, "image/jpeg"),)
    return ()


def _command(text: str) -> tuple[str, str] | None:
    if not text.startswith("/"):
        return None
    head, _, argument = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, argument.strip()) if name else None


def _from_message(message: Message, key: ConversationKey, base: dict[str, object]) -> Event:
    if message.contact is not None:
        contact = Contact(message.contact.phone_number, message.contact.user_id)
        return Event(key, EventKind.CONTACT, contact=contact, **base)  # type: ignore[arg-type]
    files = _files(message)
    if files:
        caption = message.caption or ""
        return Event(key, EventKind.FILE, text=caption, files=files, **base)  # type: ignore[arg-type]
    text = message.text or ""
    command = _command(text)
    if command is not None:
        return Event(key, EventKind.COMMAND, text=command[1], command=command[0], **base)  # type: ignore[arg-type]
    return Event(key, EventKind.TEXT, text=text, **base)  # type: ignore[arg-type]


def event_from_update(update: Update, bot_id: int) -> Event | None:
    """The event for a private-chat message or button press; None for anything else."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != "private" or user.is_bot:
        return None
    key = ConversationKey(bot_id, chat.id, user.id)
    base: dict[str, object] = {
        "update_id": update.update_id,
        "language_code": user.language_code,
        "sender_id": user.id,
    }
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return Event(key, EventKind.BUTTON, text=data, **base)  # type: ignore[arg-type]
    if update.message is not None:
        return _from_message(update.message, key, base)
    return None
