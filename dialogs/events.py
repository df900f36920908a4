"""Neutral input events. Transports build them; the engine consumes them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Who a conversation belongs to: one bot, one chat, one user."""

    bot_id: int
    chat_id: int
    user_id: int
    text: str = field(init=False, repr=False, compare=False)
    """``bot:chat:user``, made once: keys, item headers and logs use it several times a turn."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", f"{self.bot_id}:{self.chat_id}:{self.user_id}")

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> ConversationKey:
        """The inverse of ``str(key)``."""
        bot_id, chat_id, user_id = text.split(":")
        return cls(int(bot_id), int(chat_id), int(user_id))


class EventKind(enum.StrEnum):
    TEXT = "text"
    BUTTON = "button"
    COMMAND = "command"
    CONTACT = "contact"
    FILE = "file"
    SIGNAL = "signal"  # from our own side (e.g. the web page reports the password is set)


@dataclass(frozen=True, slots=True)
class Contact:
    """A shared phone contact; ``user_id`` is whose contact it is (None if unknown)."""

    phone: str
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file the customer sent; kept by reference, never downloaded by the engine."""

    file_id: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None
    kind: str = "document"  # "photo" or "document"


@dataclass(frozen=True, slots=True)
class Event:
    """One customer input.

    ``text`` holds the message text, the button's callback data, a command's argument, or a
    signal's name (e.g. ``handoff:password``).
    """

    key: ConversationKey
    kind: EventKind
    text: str = ""
    command: str | None = None
    contact: Contact | None = None
    files: tuple[FileRef, ...] = field(default=())
    update_id: int | None = None
    language_code: str | None = None
    sender_id: int | None = None
    message_id: int | None = None  # the customer's message in the chat (to copy it on)
