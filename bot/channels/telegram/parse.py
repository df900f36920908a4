"""Telegram ``Update`` → neutral :class:`dialogs.events.Event`. Nothing else."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update

from dialogs.events import TELEGRAM, Contact, ConversationKey, Event, EventKind, FileRef


def _files(message: Message) -> tuple[FileRef, ...]:
    if message.document is not None:
        d = message.document
        return (FileRef(d.file_id, d.file_name, d.file_size, d.mime_type),)
    if message.photo:
        largest = message.photo[-1]
        return (FileRef(largest.file_id, None, largest.file_size, "image/jpeg", "photo"),)
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
    key = ConversationKey(bot_id, chat.id, user.id, channel=TELEGRAM)
    base: dict[str, object] = {
        "update_id": update.update_id,
        "language_code": user.language_code,
        "sender_id": user.id,
    }
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return Event(key, EventKind.BUTTON, text=data, **base)  # type: ignore[arg-type]
    if update.message is not None:
        base["message_id"] = update.message.message_id
        return _from_message(update.message, key, base)
    return None


# The webhook hot path: the same mapping read straight from Telegram's JSON, without building
# python-telegram-bot's object tree (``Update.de_json`` was ~15% of a turn's CPU).
JSONDict = dict[str, Any]


def _json_files(message: JSONDict) -> tuple[FileRef, ...]:
    document = message.get("document")
    if document:
        return (
            FileRef(
                document["file_id"],
                document.get("file_name"),
                document.get("file_size"),
                document.get("mime_type"),
            ),
        )
    photo = message.get("photo")
    if photo:
        largest = photo[-1]
        return (FileRef(largest["file_id"], None, largest.get("file_size"), "image/jpeg", "photo"),)
    return ()


def _json_message(message: JSONDict, key: ConversationKey, base: dict[str, Any]) -> Event:
    contact = message.get("contact")
    if contact:
        shared = Contact(contact["phone_number"], contact.get("user_id"))
        return Event(key, EventKind.CONTACT, contact=shared, **base)
    files = _json_files(message)
    if files:
        return Event(key, EventKind.FILE, text=message.get("caption") or "", files=files, **base)
    text = message.get("text") or ""
    command = _command(text)
    if command is not None:
        return Event(key, EventKind.COMMAND, text=command[1], command=command[0], **base)
    return Event(key, EventKind.TEXT, text=text, **base)


def event_from_json(data: JSONDict, bot_id: int) -> tuple[Event, str | None] | None:
    """:func:`event_from_update` on the raw update JSON; also returns the callback query id
    (to answer) for a button press. None for anything that is not a private message or
    button press, or that is malformed."""
    try:
        return _event_from_json(data, bot_id)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None


def _event_from_json(data: JSONDict, bot_id: int) -> tuple[Event, str | None] | None:
    query: JSONDict | None = data.get("callback_query")
    message: JSONDict = data.get("message") or {}
    if query is not None:
        user, chat = query["from"], (query.get("message") or {}).get("chat")
    elif message:
        user, chat = message.get("from"), message["chat"]
    else:
        return None
    if user is None or chat is None or chat.get("type") != "private" or user.get("is_bot"):
        return None
    key = ConversationKey(bot_id, int(chat["id"]), int(user["id"]), channel=TELEGRAM)
    base: dict[str, Any] = {
        "update_id": int(data["update_id"]),
        "language_code": user.get("language_code"),
        "sender_id": int(user["id"]),
    }
    if query is not None:
        return Event(key, EventKind.BUTTON, text=query.get("data") or "", **base), str(query["id"])
    base["message_id"] = int(message["message_id"])
    return _json_message(message, key, base), None
