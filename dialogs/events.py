"""Neutral input events. Transports build them; the engine consumes them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

TELEGRAM = "telegram"
"""The channel whose keys read ``bot:chat:user`` with no prefix: they did before keys named
their channel, and the conversations, owed items and tickets stored under them stay theirs."""


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Who a conversation belongs to: one channel (messaging app), one bot or business number
    on it, one chat, one user. The same person on two apps has two conversations.

    ``channel`` defaults to Telegram only so that keys stored inside owed items before it
    existed still read back; every channel passes its own name."""

    bot_id: int
    chat_id: int
    user_id: int
    channel: str = field(default=TELEGRAM, kw_only=True)
    text: str = field(init=False, repr=False, compare=False)
    """``bot:chat:user`` on Telegram, ``channel:bot:chat:user`` on any other channel; made once:
    keys, item headers and logs use it several times a turn."""

    def __post_init__(self) -> None:
        ids = f"{self.bot_id}:{self.chat_id}:{self.user_id}"
        object.__setattr__(
            self, "text", ids if self.channel == TELEGRAM else f"{self.channel}:{ids}"
        )

    def __str__(self) -> str:
        return self.text

    # The text names the key whole (channel, bot, chat, user): hashing and comparing it (its
    # hash is cached by the str) is cheaper than the fields' tuple; a key is looked up in
    # several dicts a turn.
    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not ConversationKey:
            return NotImplemented
        return self.text == other.text

    @classmethod
    def parse(cls, text: str) -> ConversationKey:
        """The inverse of ``str(key)``; ValueError for anything else."""
        parts = text.split(":")
        if len(parts) == 3:
            bot_id, chat_id, user_id = parts
            return cls(int(bot_id), int(chat_id), int(user_id))
        channel, bot_id, chat_id, user_id = parts
        if channel == TELEGRAM or not channel:
            raise ValueError(f"not a conversation key: {text!r}")
        return cls(int(bot_id), int(chat_id), int(user_id), channel=channel)


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
