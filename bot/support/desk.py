"""The support desk: tickets between the customer's chat and the agents' group.

The customer's side arrives as effects of a committed turn (:meth:`open`,
:meth:`customer_message`, ...); the agents' side as messages in the support group
(:meth:`on_group_message`). Everything is written to SQL first; the group is reached through a
:class:`AgentsGroup` (Telegram: :class:`bot.channels.telegram.group.TelegramGroup`). A ticket is
found from a group message by its forum topic or by our own map of group message ids, never by
parsing text.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.channels.telegram.render import TELEGRAM_TEXT_LIMIT
from bot.dispatch import TryLater
from bot.ops import metrics
from bot.support.card import card, escape, split_text, topic_name
from dialogs.events import ConversationKey
from dialogs.i18n import N_, NN_, Catalogs
from dialogs.ports import (
    Attachment,
    Clock,
    HumanRequest,
    NewTicket,
    Outgoing,
    TicketKind,
    TicketStatus,
)
from dialogs.replies import Param, Reply, say, say_n
from dialogs.steps.tickets import PHOTO
from storage.tickets import SqlTickets, TicketRecord

log = logging.getLogger(__name__)

CALLBACK_WITHIN = 2 * 86_400  # seed 001: the company calls back within 2 days

FILED = N_(
    "Your ticket #{number} “{title}” is filed. Our support team will answer you here. "
    "Anything you send now is added to the ticket."
)
SENT = N_("Added to ticket #{number}.")
NOT_PASSED_ON = N_(
    "Your message is kept in ticket #{number}, but it could not be passed on to our support "
    "team right now. Please send it again in a few minutes."
)
CC_ADDED = N_("Added to the CC list of ticket #{number}: {emails}.")
AGENT_REPLY = N_(
    "Our support team answered your ticket #{number} “{title}”:\n\n{text}\n\n"
    "To answer, open the ticket with /tickets."
)
CC_SUBJECT = N_("Ticket #{number}: {title}")
CC_BODY = N_(
    "Our support team answered ticket #{number} “{title}”, on which you are in copy:\n\n"
    "{text}\n\nPlease do not reply to this e-mail; the customer answers in the chat."
)
CC_FILES_BODY = N_(
    "Our support team sent {files} to the customer's chat on ticket #{number} “{title}”, on "
    "which you are in copy: {names}.\n\nPlease do not reply to this e-mail; the customer "
    "answers in the chat."
)
CC_FILES = NN_("a file", "{count} files")
AGENT_FILE = N_("Our support team sent this for your ticket #{number}.")
CLOSED_BY_AGENT = N_(
    "Our support team closed your ticket #{number} “{title}”. If something is still not "
    "right, you can reopen it from /tickets."
)
REOPENED_BY_AGENT = N_("Our support team reopened your ticket #{number} “{title}”.")
HELP_TITLE = N_("Request for a person")
CALLBACK_TITLE = N_("Please call me back")
# -- said in the agents' group, in SUPPORT_LOCALE
GROUP_CLOSED = N_("Ticket #{number} closed by {name}; the customer was told.")
GROUP_REOPENED = N_("Ticket #{number} reopened by {name}; the customer was told.")
GROUP_CUSTOMER_CLOSED = N_("The customer closed ticket #{number}.")
GROUP_CUSTOMER_REOPENED = N_("The customer reopened ticket #{number}.")
GROUP_CC = N_("CC of ticket #{number} is now: {emails}")
GROUP_CUSTOMER = N_("Customer")
GROUP_ERASED = N_(
    "Ticket #{number} was erased at the customer's request (/forget): its content and the "
    "customer's identity are deleted, and answers can no longer reach them."
)
GROUP_ALREADY_CLOSED = N_("Ticket #{number} is already closed.")
GROUP_ALREADY_OPEN = N_("Ticket #{number} is already open.")
GROUP_NO_TICKET = N_(
    "This topic or message belongs to no ticket, so /{command} did nothing. Send it in the "
    "ticket's topic or as a reply to its card."
)
GROUP_FILE_NOT_DELIVERED = N_(
    "The file could not be delivered to the customer of ticket #{number}. Please send it again."
)
GROUP_ANSWER_NOT_DELIVERED = N_(
    "The answer could not be delivered to the customer of ticket #{number}. Please send it again."
)
CAPTION_LIMIT = 1024  # Telegram's limit for a media caption
AGENT_COMMANDS = ("close", "reopen")


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


class SupportDesk:
    def __init__(
        self,
        store: SqlTickets,
        catalogs: Catalogs,
        clock: Clock,
        *,
        locale: str = "en",
        group: AgentsGroup | None = None,
        mail: Callable[[Outgoing, ConversationKey | None], None] | None = None,
    ) -> None:
        self.store = store
        self.catalogs = catalogs
        self.clock = clock
        self.locale = locale  # the agents' language (card labels, notes in the group)
        self.group = group  # the agents' group (SUPPORT_CHAT_ID), None: no relay
        self.mail = mail
        """Hands a mail to the courier: CC copies of agents' answers."""

    def _t(self, msgid: str, **params: object) -> str:
        text = escape(self.catalogs.gettext(msgid, self.locale))
        for name, value in params.items():
            text = text.replace(f"{{{name}}}", escape(value))
        return text

    # -- the customer's side (effects after the commit) ----------------------------------

    async def open(self, ticket: NewTicket) -> Reply | None:
        number = await self.store.open(ticket)
        if number is None:  # stored by an earlier try: place its card if that try could not
            stored = await self.store.record(ticket.ref)
            if stored is None or stored.card_message_id is not None or self.group is None:
                return None
            number = stored.id
        else:
            metrics.ticket(TicketKind.TICKET, "opened")
        await self._to_group(number, ticket.attachments)
        return Reply(say(FILED, number=number, title=ticket.title))

    async def open_request(
        self, request: HumanRequest, request_id: int, *, ref: str | None = None
    ) -> int | None:
        """/human (kind help) or a callback request becomes a ticket with its context."""
        kinds = {kind.value for kind in TicketKind}
        kind = TicketKind(request.kind) if request.kind in kinds else TicketKind.HELP
        customer = request.customer_id or await self.store.customer_of(request.key)
        default_title = CALLBACK_TITLE if kind is TicketKind.CALLBACK else HELP_TITLE
        title = request.reason.splitlines()[0][:80] if request.reason else ""
        title = title or self.catalogs.gettext(default_title, self.locale)  # the agents' topic
        ticket = NewTicket(
            # the turn's (the conversation follows it), else the owed item's: a rerun finds it
            ref=request.ref or ref or secrets.token_urlsafe(12),
            key=request.key,
            locale=request.locale,
            title=title,
            description=request.reason or request.details.get("question", ""),
            created_at=request.created_at,
            customer_id=customer,
        )
        due = request.created_at + CALLBACK_WITHIN if kind is TicketKind.CALLBACK else None
        number = await self.store.open(ticket, kind=kind, request_id=request_id, due_at=due)
        if number is not None:
            metrics.ticket(kind, "opened")
            await self._to_group(number, ())
            return number
        stored = await self.store.record(ticket.ref)  # an earlier try stored it
        if stored is not None and stored.card_message_id is None and self.group is not None:
            await self._to_group(stored.id, ())
        return None if stored is None else stored.id

    async def customer_message(
        self,
        ref: str,
        text: str,
        attachments: tuple[Attachment, ...],
        message_id: int | None,
        at: float,
    ) -> Reply | None:
        ticket = await self.store.record(ref)
        if ticket is None:
            return None
        await self.store.add_message(
            ticket.id, author="customer", text=text, at=at, attachments=attachments
        )
        passed = True
        metrics.ticket(ticket.kind, "customer_message")
        if attachments and message_id is not None:
            passed = await self._copy_in(ticket, message_id)
        elif text:
            name = escape(ticket.customer_name or self._t(GROUP_CUSTOMER))
            prefix = f"<b>#{ticket.id}</b> · {name}:\n"
            for piece in split_text(text, TELEGRAM_TEXT_LIMIT - len(prefix)):
                passed = await self._post(ticket, prefix + escape(piece)) and passed
        # "Added" only when the agents' group took it (or there is no group to take it)
        return Reply(say(SENT if passed else NOT_PASSED_ON, number=ticket.id))

    async def customer_status(self, ref: str, status: TicketStatus, at: float) -> None:
        ticket = await self.store.record(ref)
        if ticket is None or not await self.store.set_status(ticket.id, status, at):
            return
        metrics.ticket(ticket.kind, "closed" if status is TicketStatus.CLOSED else "reopened")
        note = GROUP_CUSTOMER_CLOSED if status is TicketStatus.CLOSED else GROUP_CUSTOMER_REOPENED
        await self._post(ticket, self._t(note, number=ticket.id))

    async def add_cc(self, ref: str, emails: tuple[str, ...]) -> Reply | None:
        ticket = await self.store.record(ref)
        if ticket is None:
            return None
        merged = await self.store.add_cc(ticket.id, emails)
        await self._post(ticket, self._t(GROUP_CC, number=ticket.id, emails=", ".join(merged)))
        return Reply(say(CC_ADDED, number=ticket.id, emails=", ".join(emails)))

    async def tell_erased(self, number: int) -> None:
        """/forget: the agents learn that the ticket's content is about to go (issue 20)."""
        ticket = await self.store.record(number=number)
        if ticket is not None:
            await self._post(ticket, self._t(GROUP_ERASED, number=number))

    # -- into the group ----------------------------------------------------------------------

    async def _to_group(self, number: int, attachments: tuple[Attachment, ...]) -> None:
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
                await self._copy_in(placed, attachment.message_id)

    async def _post(self, ticket: TicketRecord, text: str) -> bool:
        """Post into the ticket's place in the group; False if the group was there but did
        not take it (refused, unreachable, or the ticket's card never got there)."""
        group = self.group
        if group is None:
            return True
        if ticket.card_message_id is None:
            return False
        try:
            posted = await group.post(
                text, thread_id=ticket.thread_id, reply_to=self._reply_to(ticket)
            )
        except Exception:
            log.exception("could not post to ticket #%s in the support group", ticket.id)
            return False
        await self.store.map_group_message(ticket.id, group.chat_id, posted)
        return True

    async def _copy_in(self, ticket: TicketRecord, message_id: int) -> bool:
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
                reply_to=self._reply_to(ticket),
            )
        except Exception:
            log.exception("could not copy a file into ticket #%s", ticket.id)
            return False
        await self.store.map_group_message(ticket.id, group.chat_id, copied)
        return True

    @staticmethod
    def _reply_to(ticket: TicketRecord) -> int | None:
        """In a forum topic the thread is enough; in a plain group, thread on the card."""
        return None if ticket.thread_id is not None else ticket.card_message_id

    # -- the agents' side ----------------------------------------------------------------

    async def on_group_message(self, message: GroupMessage) -> None:
        group = self.group
        if group is None or message.chat_id != group.chat_id:
            return
        ticket = await self.store.in_group(
            message.chat_id, thread_id=message.thread_id, reply_to=message.reply_to
        )
        if ticket is None:
            if message.command in AGENT_COMMANDS:  # every agent command gets an answer
                await self._answer_agent(message, self._t(GROUP_NO_TICKET, command=message.command))
            return
        if not await self.store.map_group_message(ticket.id, message.chat_id, message.message_id):
            return  # already handled: a redelivered update, or another worker took it
        if message.command in AGENT_COMMANDS:
            await self._agent_status(ticket, message)
        elif message.command is None:
            await self._agent_answer(group, ticket, message)

    async def _agent_status(self, ticket: TicketRecord, message: GroupMessage) -> None:
        closing = message.command == "close"
        status = TicketStatus.CLOSED if closing else TicketStatus.OPEN
        if not await self.store.set_status(ticket.id, status, self.clock()):
            already = GROUP_ALREADY_CLOSED if closing else GROUP_ALREADY_OPEN
            await self._post(ticket, self._t(already, number=ticket.id))
            return
        metrics.ticket(ticket.kind, "closed" if closing else "reopened")
        note = GROUP_CLOSED if closing else GROUP_REOPENED
        await self._post(ticket, self._t(note, number=ticket.id, name=message.sender_name))
        told = CLOSED_BY_AGENT if closing else REOPENED_BY_AGENT
        await self._tell(ticket, Reply(say(told, number=ticket.id, title=ticket.title)))

    async def _agent_answer(
        self, group: AgentsGroup, ticket: TicketRecord, message: GroupMessage
    ) -> None:
        await self.store.add_message(
            ticket.id,
            author="agent",
            text=message.text,
            at=self.clock(),
            attachments=message.attachments,
            author_name=message.sender_name,
            author_user_id=message.sender_id,
        )
        metrics.ticket(ticket.kind, "agent_answer")
        if not message.has_media:
            if not await self._tell_answer(ticket, message.text):
                note = self._t(GROUP_ANSWER_NOT_DELIVERED, number=ticket.id)
                await self._answer_agent(message, note)
                return  # the agent is asked to send it again: the CC copy goes with that one
        elif not await self._agent_file(group, ticket, message):
            return  # the agent is asked to send it again: the CC copy goes with that one
        self._copy_to_cc(ticket, message.text, message.attachments)

    async def _tell_answer(self, ticket: TicketRecord, text: str) -> bool:
        """The agent's answer in our wrapper; a text too long for one message goes in several,
        each with the wrapper (so the footer that says how to answer is never lost). False
        when a piece did not reach the customer."""
        wrapper = len(escape(self.catalogs.gettext(AGENT_REPLY, ticket.locale))) + len(
            escape(ticket.title)
        )
        room = TELEGRAM_TEXT_LIMIT - wrapper - 16  # 16: the ticket number, with room to spare
        for piece in split_text(text, room):
            reply = say(AGENT_REPLY, number=ticket.id, title=ticket.title, text=piece)
            if not await self._tell(ticket, Reply(reply)):
                return False
        return True

    async def _agent_file(
        self, group: AgentsGroup, ticket: TicketRecord, message: GroupMessage
    ) -> bool:
        """The file with our line and the agent's text as its caption; a text too long for a
        caption follows as an answer of its own. A failure is told to the agent."""
        caption = escape(self.catalogs.gettext(AGENT_FILE, ticket.locale)).replace(
            "{number}", str(ticket.id)
        )
        text_apart = False
        if message.text:
            full = f"{caption}\n\n{escape(message.text)}"
            text_apart = len(full) > CAPTION_LIMIT
            caption = caption if text_apart else full
        try:
            await group.copy_out(ticket.key.chat_id, message.message_id, caption)
        except Exception:
            log.exception("could not copy an agent's file to ticket #%s", ticket.id)
            await self._answer_agent(message, self._t(GROUP_FILE_NOT_DELIVERED, number=ticket.id))
            return False
        if text_apart and not await self._tell_answer(ticket, message.text):
            await self._answer_agent(message, self._t(GROUP_ANSWER_NOT_DELIVERED, number=ticket.id))
        return True

    async def _answer_agent(self, message: GroupMessage, text: str) -> None:
        """A note for the agent (already escaped), as a reply to their message in the group."""
        if self.group is None:
            return
        try:
            await self.group.post(text, thread_id=message.thread_id, reply_to=message.message_id)
        except Exception:
            log.exception("could not answer an agent in the support group")

    def _copy_to_cc(
        self, ticket: TicketRecord, text: str, files: tuple[Attachment, ...] = ()
    ) -> None:
        """The agent's answer by e-mail to the ticket's CC addresses, in the customer's
        language (the mail renderer escapes the values in its HTML part). A file without text
        is named in a mail of its own kind (files stay in Telegram: never downloaded)."""
        if self.mail is None or not (text or files):
            return
        title = " ".join(ticket.title.split())  # one line: it goes into the Subject header
        params: dict[str, Param] = {"number": ticket.id, "title": title, "text": text}
        body = CC_BODY
        if not text:
            photo = self.catalogs.gettext(PHOTO, ticket.locale)
            params["names"] = ", ".join(file.name or photo for file in files) or "—"
            params["files"] = say_n(CC_FILES, max(len(files), 1))  # a video: no attachment
            body = CC_FILES_BODY
        for address in ticket.cc:
            self.mail(Outgoing("email", address, ticket.locale, CC_SUBJECT, body, params), None)

    async def _tell(self, ticket: TicketRecord, reply: Reply) -> bool:
        if self.group is None or not ticket.key.chat_id:  # no chat: erased (/forget)
            return False
        try:
            await self.group.tell(ticket.key.chat_id, [reply], ticket.locale)
        except Exception:
            log.exception("could not tell the customer of ticket #%s", ticket.id)
            return False
        return True
