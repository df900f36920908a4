"""Telegram-shaped objects for the fake Bot API server in ``tests/fakebotapi.py``.

Shapes (field sets, key order, id formats) follow the real captures in
``/work/shared/telegram-samples``:

* users and private chats omit ``last_name``/``username`` when they are not set;
* a message has ``message_id``, ``from``, ``chat``, ``date``, then thread/reply fields,
  then its content, then ``is_topic_message`` and ``reply_markup``;
* in a forum topic, ``message_thread_id`` is the id of the ``forum_topic_created`` service
  message and a message without an explicit reply replies to that service message;
* in a supergroup without topics, a reply carries ``message_thread_id`` = the id of the root
  of the reply chain and has no ``is_topic_message``;
* ``callback_query.id`` is a numeric string, ``chat_instance`` a signed 64-bit integer string;
* user-sent ``file_id``s contain ``AxkBAA``, bot-sent ones ``AxkDAA``.

``TelegramState`` holds what both directions share (chats, per-chat message ids, stored
messages, files); ``UpdateBuilders`` is a mixin that builds incoming updates from it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# Telegram's six default forum topic colours (0x6FB9F0 first, as in the captures).
TOPIC_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

_FILE_ID_PREFIX = {"document": "BQACAgIAAxk", "photo": "AgACAgIAAxk"}
_FILE_UNIQUE_PREFIX = {"document": "AgAD", "photo": "AQAD"}
_FILE_ID_LENGTH = {"document": 72, "photo": 83}
# The four sizes of update_photo.json; the last one is the original.
_PHOTO_SIZES = ((40, 90), (144, 320), (360, 800), (576, 1280))
_SAME_USER: Any = object()


def now() -> int:
    """Telegram's ``date``: Unix time in whole seconds."""
    return int(time.time())


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=32).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signed_int64(*parts: object) -> int:
    """A stable signed 64-bit integer derived from ``parts``."""
    return int.from_bytes(_digest(*parts)[:8], "big", signed=True)


def user_dict(
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
    is_bot: bool = False,
) -> JSON:
    """A ``User`` the way Telegram sends it: optional fields are omitted, not null."""
    user: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def private_chat_dict(user: JSON) -> JSON:
    """The private ``Chat`` with ``user`` (same id, names copied, ``type`` last)."""
    chat: JSON = {"id": user["id"], "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if key in user:
            chat[key] = user[key]
    chat["type"] = "private"
    return chat


def supergroup_dict(chat_id: int, title: str, *, forum: bool) -> JSON:
    chat: JSON = {"id": chat_id, "title": title}
    if forum:
        chat["is_forum"] = True
    chat["type"] = "supergroup"
    return chat


def as_reply(message: JSON) -> JSON:
    """A stored message embedded as ``reply_to_message`` (Telegram does not nest further)."""
    embedded = copy.deepcopy(message)
    embedded.pop("reply_to_message", None)
    return embedded


@dataclass
class StoredFile:
    """A file the fake knows about: answers ``getFile`` and is served under ``/file/bot...``."""

    file_id: str
    file_unique_id: str
    file_size: int
    file_path: str
    content: bytes
    kind: str = "document"
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def as_file(self) -> JSON:
        """The ``File`` object returned by ``getFile``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def as_document(self) -> JSON:
        document: JSON = {}
        if self.file_name is not None:
            document["file_name"] = self.file_name
        if self.mime_type is not None:
            document["mime_type"] = self.mime_type
        document.update(
            file_id=self.file_id, file_unique_id=self.file_unique_id, file_size=self.file_size
        )
        return document

    def as_photo_size(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "width": self.width,
            "height": self.height,
        }


@dataclass
class TelegramState:
    """Chats, messages and files shared by incoming updates and the bot's API calls."""

    bot_user: JSON
    default_forum: bool = False  # unknown supergroups are forums
    chats: dict[int, JSON] = field(default_factory=dict)
    messages: dict[int, dict[int, JSON]] = field(default_factory=dict)
    last_bot_message: dict[int, int] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    photos: dict[str, list[StoredFile]] = field(default_factory=dict)
    callback_query_ids: set[str] = field(default_factory=set)
    _last_message_id: dict[int, int] = field(default_factory=dict)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100000001))
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def bot_sender(self) -> JSON:
        """``from`` of messages the bot sends (the short form seen in sendMessage replies)."""
        keys = ("id", "is_bot", "first_name", "username")
        return {key: self.bot_user[key] for key in keys}

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_serial(self) -> int:
        return next(self._serial)

    def next_message_id(self, chat_id: int) -> int:
        """Message ids grow per chat, shared by user and bot messages, like in Telegram."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    # -- chats ------------------------------------------------------------------------------

    def chat(self, chat_id: int) -> JSON:
        """The known chat, or a plausible one (private for positive ids, supergroup else)."""
        if chat_id not in self.chats:
            if chat_id > 0:
                self.chats[chat_id] = private_chat_dict(user_dict(chat_id, "Alex"))
            else:
                self.register_supergroup(chat_id, "Test group", forum=self.default_forum)
        return copy.deepcopy(self.chats[chat_id])

    def is_forum(self, chat_id: int) -> bool:
        return bool(self.chats.get(chat_id, {}).get("is_forum"))

    def register_supergroup(self, chat_id: int, title: str, *, forum: bool) -> JSON:
        self.chats[chat_id] = supergroup_dict(chat_id, title, forum=forum)
        # Message 1 of a supergroup is its creation; thread id 1 is a forum's General topic.
        self._last_message_id.setdefault(chat_id, 1)
        return copy.deepcopy(self.chats[chat_id])

    def make_forum(self, chat_id: int) -> None:
        chat = self.chat(chat_id)
        if chat["type"] != "private" and not chat.get("is_forum"):
            self.register_supergroup(chat_id, chat.get("title", "Test group"), forum=True)

    # -- messages ---------------------------------------------------------------------------

    def store(self, message: JSON) -> JSON:
        chat_id = message["chat"]["id"]
        self.messages.setdefault(chat_id, {})[message["message_id"]] = message
        last = self._last_message_id.get(chat_id, 0)
        self._last_message_id[chat_id] = max(last, message["message_id"])
        return copy.deepcopy(message)

    def find(self, chat_id: int, message_id: int) -> JSON | None:
        message = self.messages.get(chat_id, {}).get(message_id)
        return copy.deepcopy(message) if message is not None else None

    def get(self, chat_id: int, message_id: int) -> JSON:
        message = self.find(chat_id, message_id)
        if message is None:
            raise LookupError(f"fake Bot API: no message {message_id} in chat {chat_id}")
        return message

    def topic_root(self, chat_id: int, thread_id: int) -> JSON:
        """The ``forum_topic_created`` service message of a topic (created if unknown)."""
        found = self.find(chat_id, thread_id)
        if found is not None:
            return found
        created = {"name": f"Topic {thread_id}", "icon_color": TOPIC_ICON_COLORS[0]}
        return self.store(self.topic_service_message(chat_id, thread_id, created))

    def topic_service_message(self, chat_id: int, thread_id: int, created: JSON) -> JSON:
        return {
            "message_id": thread_id,
            "from": self.bot_sender,
            "chat": self.chat(chat_id),
            "date": now(),
            "message_thread_id": thread_id,
            "forum_topic_created": created,
            "is_topic_message": True,
        }

    def compose(
        self,
        chat_id: int,
        sender: JSON,
        content: JSON,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        topic: bool = False,
        reply_markup: JSON | None = None,
    ) -> JSON:
        """Build and store a new message in ``chat_id`` (thread rules as in the captures)."""
        chat = self.chat(chat_id)
        reply = as_reply(self.get(chat_id, reply_to)) if reply_to is not None else None
        thread = _thread_of(chat, thread_id, reply)
        in_topic = thread is not None and chat["type"] == "supergroup"
        topic = in_topic and (topic or self.is_forum(chat_id))
        if topic and reply is None and thread is not None and thread != 1:
            reply = as_reply(self.topic_root(chat_id, thread))
        message: JSON = {
            "message_id": self.next_message_id(chat_id),
            "from": sender,
            "chat": chat,
            "date": now(),
        }
        if thread is not None:
            message["message_thread_id"] = thread
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if topic:
            message["is_topic_message"] = True
        if reply_markup is not None and "inline_keyboard" in reply_markup:
            message["reply_markup"] = reply_markup
        if sender["id"] == self.bot_user["id"]:
            self.last_bot_message[chat_id] = message["message_id"]
        return self.store(message)

    # -- files ------------------------------------------------------------------------------

    def new_file(
        self,
        kind: str,
        content: bytes,
        *,
        by_bot: bool,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """Register a file with Telegram-shaped ids (``AxkBAA`` user-sent, ``AxkDAA`` bot)."""
        serial = self.next_serial()
        raw = _b64(_digest(kind, serial) * 3)
        prefix = _FILE_ID_PREFIX[kind] + ("DAA" if by_bot else "BAA")
        folder, ext = ("photos", "jpg") if kind == "photo" else ("documents", _ext(file_name))
        stored = StoredFile(
            file_id=(prefix + raw)[: _FILE_ID_LENGTH[kind]],
            file_unique_id=_FILE_UNIQUE_PREFIX[kind] + raw[-12:],
            file_size=len(content) if size is None else size,
            file_path=f"{folder}/file_{serial}.{ext}",
            content=content,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        return stored

    def new_photo(self, *, by_bot: bool, content: bytes | None = None) -> list[StoredFile]:
        """A photo in the four sizes of ``update_photo.json``; each size answers getFile."""
        sizes = []
        for width, height in _PHOTO_SIZES:
            data = content if content is not None else b"\xff\xd8" + bytes(width * 2)
            sizes.append(self.new_file("photo", data, by_bot=by_bot, width=width, height=height))
        for size in sizes:
            self.photos[size.file_id] = sizes
        return sizes


def _thread_of(chat: JSON, thread_id: int | None, reply: JSON | None) -> int | None:
    if thread_id is not None or reply is None or chat["type"] != "supergroup":
        return thread_id
    # A reply in a supergroup keeps the thread of what it replies to, or starts one there.
    root: int = reply["message_thread_id" if "message_thread_id" in reply else "message_id"]
    return root


def _ext(file_name: str | None) -> str:
    if file_name and "." in file_name:
        return file_name.rsplit(".", 1)[1].lower()
    return "bin"


class UpdateBuilders:
    """Builders of incoming updates, mixed into ``FakeBotApi`` (needs ``self.state``).

    Each returns a fresh update dict with the next ``update_id``; the message is stored so
    later replies, callbacks and ``copyMessage`` can refer to it. Builders do not deliver:
    pass the result to ``push()`` (polling) or ``post_webhook()``/``deliver()``.
    """

    state: TelegramState

    # -- private chats ------------------------------------------------------------------------

    def text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Alex",
        last_name: str | None = None,
        username: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A plain text message (``update_private_text.json``)."""
        sender = self._sender(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            chat_id=chat_id,
        )
        return self._message_update(chat_id or user_id, sender, {"text": text}, reply_to=reply_to)

    def command(
        self,
        user_id: int,
        command: str = "/start",
        payload: str | None = None,
        *,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Alex",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """``/start [payload]``: the ``bot_command`` entity covers the command only."""
        text = command if payload is None else f"{command} {payload}"
        entity = {"offset": 0, "length": _utf16_len(command), "type": "bot_command"}
        sender = self._sender(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            chat_id=chat_id,
        )
        content = {"text": text, "entities": [entity]}
        return self._message_update(chat_id or user_id, sender, content)

    def callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Alex",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """A button press on a bot message (default: the last one the bot sent to the chat)."""
        chat = chat_id or user_id
        sender = self._sender(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            chat_id=chat_id,
        )
        if message_id is None:
            message_id = self.state.last_bot_message.get(chat)
            if message_id is None:
                raise LookupError(f"fake Bot API: the bot has sent nothing to chat {chat}")
        query_id = str(signed_int64("callback", self.state.next_serial()) & (2**63 - 1))
        self.state.callback_query_ids.add(query_id)
        query = {
            "id": query_id,
            "from": sender,
            "message": self.state.get(chat, message_id),
            "chat_instance": str(signed_int64("chat_instance", self.state.bot_user["id"], chat)),
            "data": data,
        }
        return {"update_id": self.state.next_update_id(), "callback_query": query}

    def contact(
        self,
        user_id: int,
        phone: str,
        *,
        contact_user_id: int | None = _SAME_USER,
        contact_first_name: str | None = None,
        contact_last_name: str | None = None,
        language_code: str | None = "en",
        first_name: str = "Alex",
        last_name: str | None = None,
        username: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A shared contact. By default the user's own (``contact.user_id == from.id``);
        pass another id for a third party's contact or ``None`` for one without ``user_id``.
        """
        sender = self._sender(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            chat_id=None,
        )
        contact: JSON = {"phone_number": phone, "first_name": contact_first_name or first_name}
        if contact_user_id is _SAME_USER:
            contact_user_id = user_id
            contact_last_name = contact_last_name or last_name
        if contact_last_name:
            contact["last_name"] = contact_last_name
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._message_update(user_id, sender, {"contact": contact}, reply_to=reply_to)

    def document(
        self,
        user_id: int,
        file_name: str,
        mime: str,
        size: int,
        *,
        content: bytes | None = None,
        caption: str | None = None,
        language_code: str | None = "en",
        first_name: str = "Alex",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """A user-sent document; ``getFile`` and the file URL serve ``content`` (or zeros)."""
        data = content if content is not None else bytes(size)
        stored = self.state.new_file(
            "document", data, by_bot=False, file_name=file_name, mime_type=mime, size=size
        )
        sender = self._sender(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            chat_id=None,
        )
        body: JSON = {"document": stored.as_document()}
        if caption is not None:
            body["caption"] = caption
        return self._message_update(user_id, sender, body)

    def photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        content: bytes | None = None,
        language_code: str | None = "en",
        first_name: str = "Alex",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """A user-sent photo with four ``PhotoSize``s, smallest first."""
        sizes = self.state.new_photo(by_bot=False, content=content)
        sender = self._sender(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            chat_id=None,
        )
        body: JSON = {"photo": [size.as_photo_size() for size in sizes]}
        if caption is not None:
            body["caption"] = caption
        return self._message_update(user_id, sender, body)

    # -- supergroups --------------------------------------------------------------------------

    def supergroup(self, chat_id: int, *, title: str = "Support", forum: bool = False) -> JSON:
        """Register a supergroup (a forum when ``forum=True``); returns its ``Chat``."""
        return self.state.register_supergroup(chat_id, title, forum=forum)

    def group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        is_topic: bool = False,
        reply_to: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Alex",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """A human's text in a supergroup.

        Forum topic (``is_topic=True`` or a registered forum with ``thread_id``): the message
        has ``message_thread_id``, ``is_topic_message`` and replies to the topic's
        ``forum_topic_created`` message (``update_forum_topic_message.json``). Without topics,
        ``reply_to`` gives ``message_thread_id`` = the reply chain's root
        (``update_group_reply.json``).
        """
        if is_topic:
            if thread_id is None and reply_to is None:
                raise ValueError("a topic message needs thread_id (or reply_to)")
            self.state.make_forum(chat_id)
        sender = user_dict(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        message = self.state.compose(
            chat_id,
            sender,
            {"text": text},
            thread_id=thread_id,
            reply_to=reply_to,
            topic=is_topic,
        )
        return {"update_id": self.state.next_update_id(), "message": message}

    def group_file(
        self,
        chat_id: int,
        user_id: int,
        *,
        kind: str = "document",
        file_name: str = "fix.txt",
        mime: str = "text/plain",
        size: int = 100,
        caption: str | None = None,
        thread_id: int | None = None,
        is_topic: bool = False,
        reply_to: int | None = None,
        first_name: str = "Alex",
    ) -> JSON:
        """A human's photo or document in a supergroup (thread rules as ``group_message``)."""
        if is_topic:
            self.state.make_forum(chat_id)
        if kind == "photo":
            sizes = self.state.new_photo(by_bot=False)
            body: JSON = {"photo": [size.as_photo_size() for size in sizes]}
        else:
            stored = self.state.new_file(
                "document", bytes(size), by_bot=False, file_name=file_name, mime_type=mime
            )
            body = {"document": stored.as_document()}
        if caption is not None:
            body["caption"] = caption
        sender = user_dict(user_id, first_name, language_code="en")
        message = self.state.compose(
            chat_id, sender, body, thread_id=thread_id, reply_to=reply_to, topic=is_topic
        )
        return {"update_id": self.state.next_update_id(), "message": message}

    # -- helpers ------------------------------------------------------------------------------

    def _sender(
        self,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        chat_id: int | None,
    ) -> JSON:
        user = user_dict(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        if chat_id is None or chat_id == user_id:
            self.state.chats[user_id] = private_chat_dict(user)
        return user

    def _message_update(
        self, chat_id: int, sender: JSON, content: JSON, *, reply_to: int | None = None
    ) -> JSON:
        message = self.state.compose(chat_id, sender, content, reply_to=reply_to)
        return {"update_id": self.state.next_update_id(), "message": message}


def _utf16_len(text: str) -> int:
    """Entity offsets and lengths count UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
