"""The one agents' group (on Telegram) for customers on every messaging app (issue 18).

:class:`CrossChannelGroup` is the :class:`~bot.support.group.AgentsGroup` the desk sees when
WhatsApp is served too: what happens in the group (cards, topics, notes) goes to Telegram's
group as before; what reaches a customer goes through the customer's own app. A WhatsApp
customer's file is downloaded from the Graph API and uploaded into the group; an agent's file
is downloaded from Telegram and uploaded to WhatsApp — both within ``max_bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.support.group import GroupMessage
from dialogs.events import ConversationKey
from dialogs.ports import Attachment
from dialogs.replies import Reply

if TYPE_CHECKING:
    from bot.channels.telegram.group import TelegramGroup


@dataclass(frozen=True, slots=True)
class CustomerFile:
    content: bytes
    filename: str
    mime_type: str


class CustomerSide(Protocol):
    """A messaging app other than Telegram, as the agents' group needs it."""

    async def tell(self, chat_id: int, replies: Sequence[Reply], locale: str) -> None: ...

    async def fetch(self, attachment: Attachment, *, max_bytes: int) -> CustomerFile: ...

    async def send_file(self, chat_id: int, file: CustomerFile, caption: str, locale: str) -> None:
        """``caption`` is our HTML subset, in the customer's ``locale``."""
        ...

    def who(self, customer: ConversationKey) -> str: ...


class CrossChannelGroup:
    def __init__(
        self, telegram: TelegramGroup, apps: Mapping[str, CustomerSide], *, max_bytes: int
    ) -> None:
        self.telegram = telegram
        self.apps = apps
        self.max_bytes = max_bytes
        self.chat_id = telegram.chat_id

    async def uses_topics(self) -> bool:
        return await self.telegram.uses_topics()

    async def create_topic(self, name: str) -> int:
        return await self.telegram.create_topic(name)

    async def post(self, html: str, *, thread_id: int | None, reply_to: int | None) -> int:
        return await self.telegram.post(html, thread_id=thread_id, reply_to=reply_to)

    async def copy_in(
        self,
        customer: ConversationKey,
        attachment: Attachment,
        *,
        thread_id: int | None,
        reply_to: int | None,
    ) -> int:
        app = self.apps.get(customer.channel)
        if app is None:
            return await self.telegram.copy_in(
                customer, attachment, thread_id=thread_id, reply_to=reply_to
            )
        file = await app.fetch(attachment, max_bytes=self.max_bytes)
        return await self.telegram.upload(
            file.content,
            file.filename,
            attachment.kind,
            caption=f"📎 {app.who(customer)}",
            thread_id=thread_id,
            reply_to=reply_to,
        )

    async def copy_out(
        self, customer: ConversationKey, message: GroupMessage, caption: str, locale: str
    ) -> None:
        app = self.apps.get(customer.channel)
        if app is None:
            await self.telegram.copy_out(customer, message, caption, locale)
            return
        if not message.attachments:  # a video, a sticker: nothing we can pass on
            raise ValueError("the agent's message has no file we can pass on")
        attachment = message.attachments[0]
        content = await self.telegram.download(attachment.file_id, max_bytes=self.max_bytes)
        name = attachment.name or ("photo.jpg" if attachment.kind == "photo" else "file")
        mime = "image/jpeg" if attachment.kind == "photo" else _mime_of(name)
        await app.send_file(customer.chat_id, CustomerFile(content, name, mime), caption, locale)

    async def tell(self, customer: ConversationKey, replies: Sequence[Reply], locale: str) -> None:
        app = self.apps.get(customer.channel)
        if app is None:
            await self.telegram.tell(customer, replies, locale)
        else:
            await app.tell(customer.chat_id, replies, locale)

    async def who(self, customer: ConversationKey) -> str | None:
        app = self.apps.get(customer.channel)
        return await self.telegram.who(customer) if app is None else app.who(customer)


def _mime_of(name: str) -> str:
    import mimetypes  # noqa: PLC0415

    return mimetypes.guess_type(name)[0] or "application/octet-stream"
