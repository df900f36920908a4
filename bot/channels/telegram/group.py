"""The agents' group on Telegram: every Bot API call goes through the sender's ``call`` (its
limiter and retries); group updates are parsed into neutral :class:`GroupMessage`s."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError

from bot.channels.telegram.ratelimit import PacingUnavailable
from bot.dispatch import TryLater
from bot.support.group import GroupMessage
from dialogs.ports import Attachment
from dialogs.replies import Reply

if TYPE_CHECKING:
    from bot.channels.telegram.sender import TelegramSender

JSONDict = dict[str, Any]
log = logging.getLogger(__name__)


class TelegramGroup:
    """``SUPPORT_CHAT_ID`` as a :class:`bot.support.group.AgentsGroup`. ``topics`` None: ask
    Telegram once whether the group is a forum (``getChat`` ``is_forum``)."""

    def __init__(self, sender: TelegramSender, chat_id: int, topics: bool | None = None) -> None:
        self.sender = sender
        self.chat_id = chat_id
        self.topics = topics

    async def _call(self, endpoint: str, **params: object) -> Any:
        """The sender's call; a failure that passes (the network, Telegram's 5xx, the shared
        pacing's Redis) becomes :class:`~bot.dispatch.TryLater`, so the owed ticket effect is
        tried again later instead of the ticket staying out of the group."""
        try:
            return await self.sender.call(endpoint, **params)
        except NetworkError as exc:
            if isinstance(exc, BadRequest):
                raise
            raise TryLater(type(exc).__name__) from exc
        except PacingUnavailable as exc:  # the shared pacing's Redis: not sent unpaced
            raise TryLater(type(exc).__name__) from exc

    async def uses_topics(self) -> bool:
        if self.topics is None:
            chat = await self._call("getChat", chat_id=self.chat_id)
            self.topics = bool(chat.get("is_forum"))
        return self.topics

    async def create_topic(self, name: str) -> int:
        result = await self._call("createForumTopic", chat_id=self.chat_id, name=name)
        return int(result["message_thread_id"])

    async def post(self, html: str, *, thread_id: int | None, reply_to: int | None) -> int:
        result = await self._call(
            "sendMessage",
            chat_id=self.chat_id,
            text=html,
            parse_mode=ParseMode.HTML,
            message_thread_id=thread_id,
            reply_parameters=_reply(reply_to),
        )
        return int(result["message_id"])

    async def copy_in(
        self, from_chat: int, message_id: int, *, thread_id: int | None, reply_to: int | None
    ) -> int:
        result = await self._call(
            "copyMessage",
            chat_id=self.chat_id,
            from_chat_id=from_chat,
            message_id=message_id,
            message_thread_id=thread_id,
            reply_parameters=_reply(reply_to),
        )
        return int(result["message_id"])

    async def copy_out(self, to_chat: int, message_id: int, caption: str) -> None:
        await self._call(
            "copyMessage",
            chat_id=to_chat,
            from_chat_id=self.chat_id,
            message_id=message_id,
            caption=caption,
            parse_mode=ParseMode.HTML,
        )

    async def tell(self, chat_id: int, replies: Sequence[Reply], locale: str) -> None:
        await self.sender.send(chat_id, replies, locale)

    async def who(self, user_id: int) -> str | None:
        """``First Last (@username)`` from ``getChat`` on the private chat; None when Telegram
        cannot tell (the card then shows the id alone; nothing personal is logged)."""
        try:
            chat = await self._call("getChat", chat_id=user_id)
        except Exception:
            log.info("getChat for a ticket card failed; the card shows the user id only")
            return None
        return user_label(chat)


def user_label(chat: JSONDict) -> str | None:
    name = " ".join(str(chat[k]) for k in ("first_name", "last_name") if chat.get(k))
    handle = f"@{chat['username']}" if chat.get("username") else ""
    label = f"{name} ({handle})" if name and handle else name or handle
    return label or None


def _reply(message_id: int | None) -> JSONDict | None:
    if message_id is None:
        return None
    return {"message_id": message_id, "allow_sending_without_reply": True}


def group_message(data: JSONDict, bot_id: int) -> GroupMessage | None:
    """A human's message in a group or supergroup; None for anything else."""
    message = data.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender = message.get("chat") or {}, message.get("from") or {}
    if chat.get("type") not in ("group", "supergroup") or sender.get("is_bot", True):
        return None
    text = message.get("text") or message.get("caption") or ""
    command = None
    if message.get("text", "").startswith("/") and len(text) > 1:
        command = text[1:].split(maxsplit=1)[0].partition("@")[0].lower()
    reply = message.get("reply_to_message") or {}
    name = " ".join(filter(None, (sender.get("first_name"), sender.get("last_name"))))
    return GroupMessage(
        chat_id=int(chat["id"]),
        message_id=int(message["message_id"]),
        sender_id=int(sender["id"]),
        sender_name=name or str(sender["id"]),
        thread_id=message.get("message_thread_id"),
        reply_to=reply.get("message_id"),
        text=text,
        command=command,
        has_media=_has_media(message),
        attachments=_attachments(message),
    )


MEDIA = ("photo", "document", "video", "audio", "voice", "animation", "sticker", "video_note")


def _has_media(message: JSONDict) -> bool:
    return any(message.get(kind) for kind in MEDIA)


def _attachments(message: JSONDict) -> tuple[Attachment, ...]:
    message_id = int(message["message_id"])
    document = message.get("document")
    if document:
        name, size = document.get("file_name"), document.get("file_size")
        return (Attachment(document["file_id"], "document", message_id, name, size),)
    photo = message.get("photo")
    if photo:
        largest = photo[-1]
        return (
            Attachment(largest["file_id"], "photo", message_id, None, largest.get("file_size")),
        )
    return ()
