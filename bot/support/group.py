"""The agents' group as the support desk sees it: the port a messaging app implements
(:class:`AgentsGroup`; Telegram: :class:`bot.channels.telegram.group.TelegramGroup`), its
messages (:class:`GroupMessage`), and :class:`GroupRelay`, which puts tickets, notes and files
into the ticket's place there and answers the customer through it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.dispatch import TryLater
from bot.support.card import card, escape, topic_name
from dialogs.i18n import Catalogs
from dialogs.ports import Attachment
from dialogs.replies import Reply
from storage.ticket_records import TicketRecord
from storage.tickets import SqlTickets

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GroupMessage:
    """A message in the agents' group, neutral (parsed by the transport)."""

    chat_id: int
    message_id: int
    sender_id: int
    sender_name: str
    thread_id: int | None = None
    reply_to: int | None = None
    text: str = ""
    command: str | None = None
    has_media: bool = False
    attachments: tuple[Attachment, ...] = ()


class AgentsGroup(Protocol):
    """The agents' group and the way back to a customer's chat."""

    chat_id: int

    async def uses_topics(self) -> bool: ...

    async def create_topic(self, name: str) -> int: ...

    async def post(self, html: str, *, thread_id: int | None, reply_to: int | None) -> int: ...

    async def copy_in(
        self, from_chat: int, message_id: int, *, thread_id: int | None, reply_to: int | None
    ) -> int: ...

    async def copy_out(self, to_chat: int, message_id: int, caption: str) -> None: ...

    async def tell(self, chat_id: int, replies: Sequence[Reply], locale: str) -> None: ...

    async def who(self, user_id: int) -> str | None:
        """The user's name and @username as the messaging app shows them, or None."""
        ...


class GroupRelay:
    """Into the agents' group (None: no group configured, tickets are only stored)."""

    def __init__(
        self, store: SqlTickets, catalogs: Catalogs, locale: str, group: AgentsGroup | None
    ) -> None:
        self.store = store
        self.catalogs = catalogs
        self.locale = locale  # the agents' language (card labels, notes in the group)
        self.group = group

    def t(self, msgid: str, **params: object) -> str:
        text = escape(self.catalogs.gettext(msgid, self.locale))
        for name, value in params.items():
            text = text.replace(f"{{{name}}}", escape(value))
        return text

    async def to_group(self, number: int, attachments: tuple[Attachment, ...]) -> None:
        group, ticket = self.group, await self.store.record(number=number)
        if group is None or ticket is None:
            log.info("ticket #%s stored; no support group is configured", number)
            return
        try:
            thread = None
            if await group.uses_topics():
                thread = await group.create_topic(topic_name(ticket))
            user = await group.who(ticket.key.user_id)
            text = card(ticket, self.catalogs, self.locale, len(attachments), user=user)
            card_id = await group.post(text, thread_id=thread, reply_to=None)
        except TryLater:
            log.warning("ticket #%s: the support group cannot be reached; trying again", number)
            raise  # the owed effect is tried again (bot/dispatch.py)
        except Exception:
            log.exception("ticket #%s could not be posted to the support group", number)
            return
        await self.store.place(
            number, chat_id=group.chat_id, thread_id=thread, card_message_id=card_id
        )
        placed = await self.store.record(number=number)
        for attachment in attachments:
            if placed is not None and attachment.message_id is not None:
                await self.copy_in(placed, attachment.message_id)

    async def post(self, ticket: TicketRecord, text: str) -> bool:
        """Post into the ticket's place in the group; False if the group was there but did
        not take it (refused, unreachable, or the ticket's card never got there)."""
        group = self.group
        if group is None:
            return True
        if ticket.card_message_id is None:
            return False
        try:
            posted = await group.post(
                text, thread_id=ticket.thread_id, reply_to=self.reply_to(ticket)
            )
        except Exception:
            log.exception("could not post to ticket #%s in the support group", ticket.id)
            return False
        await self.store.map_group_message(ticket.id, group.chat_id, posted)
        return True

    async def copy_in(self, ticket: TicketRecord, message_id: int) -> bool:
        group = self.group
        if group is None:
            return True
        if ticket.card_message_id is None:
            return False
        try:
            copied = await group.copy_in(
                ticket.key.chat_id,
                message_id,
                thread_id=ticket.thread_id,
                reply_to=self.reply_to(ticket),
            )
        except Exception:
            log.exception("could not copy a file into ticket #%s", ticket.id)
            return False
        await self.store.map_group_message(ticket.id, group.chat_id, copied)
        return True

    @staticmethod
    def reply_to(ticket: TicketRecord) -> int | None:
        """In a forum topic the thread is enough; in a plain group, thread on the card."""
        return None if ticket.thread_id is not None else ticket.card_message_id

    async def answer_agent(self, message: GroupMessage, text: str) -> None:
        """A note for the agent (already escaped), as a reply to their message in the group."""
        if self.group is None:
            return
        try:
            await self.group.post(text, thread_id=message.thread_id, reply_to=message.message_id)
        except Exception:
            log.exception("could not answer an agent in the support group")

    async def tell(self, ticket: TicketRecord, reply: Reply) -> bool:
        if self.group is None or not ticket.key.chat_id:  # no chat: erased (/forget)
            return False
        try:
            await self.group.tell(ticket.key.chat_id, [reply], ticket.locale)
        except Exception:
            log.exception("could not tell the customer of ticket #%s", ticket.id)
            return False
        return True
