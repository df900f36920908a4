"""A WhatsApp customer as the agents' group (bot/support/crossing.py) needs them: answers told
through the sender (the window and pacing apply), files fetched from and sent to the Graph API,
and how the card names them (their number, and that it is WhatsApp)."""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers

from bot.channels.whatsapp.api import GraphClient
from bot.channels.whatsapp.format import cut, to_whatsapp
from bot.channels.whatsapp.render import CAPTION_LIMIT
from bot.channels.whatsapp.sender import WhatsAppSender
from bot.support.crossing import CustomerFile
from dialogs.events import ConversationKey
from dialogs.ports import Attachment
from dialogs.replies import Reply


class WhatsAppCustomers:
    def __init__(self, sender: WhatsAppSender, client: GraphClient) -> None:
        self.sender = sender
        self.client = client

    async def tell(self, chat_id: int, replies: Sequence[Reply], locale: str) -> None:
        await self.sender.send(chat_id, replies, locale)

    async def fetch(self, attachment: Attachment, *, max_bytes: int) -> CustomerFile:
        media = await self.client.download(attachment.file_id, max_bytes=max_bytes)
        extension = (media.mime_type.split("/")[-1] or "bin").split(";")[0]
        name = attachment.name or f"{attachment.kind}.{extension}"
        return CustomerFile(media.content, name, media.mime_type)

    async def send_file(self, chat_id: int, file: CustomerFile, caption: str, locale: str) -> None:
        media_id = await self.client.upload(file.content, file.filename, file.mime_type)
        kind = "image" if file.mime_type in ("image/jpeg", "image/png") else "document"
        body = {"id": media_id, "caption": cut(to_whatsapp(caption), CAPTION_LIMIT)}
        if kind == "document":
            body["filename"] = file.filename
        await self.sender.media(chat_id, {"type": kind, kind: body}, to_whatsapp(caption), locale)

    def who(self, customer: ConversationKey) -> str:
        number = phonenumbers.parse(f"+{customer.chat_id}")
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return f"{shown} (WhatsApp)"
