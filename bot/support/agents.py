"""The agents' side of the support desk: messages in the group become answers, files and
status changes of the ticket they belong to (found by forum topic or our map of group
message ids, never by parsing text); each answer is copied to the ticket's CC addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.channels.telegram.render import TELEGRAM_TEXT_LIMIT
from bot.ops import metrics
from bot.support.card import escape, split_text
from bot.support.group import AgentsGroup, GroupMessage, GroupRelay
from bot.support.texts import (
    AGENT_COMMANDS,
    AGENT_FILE,
    AGENT_REPLY,
    CAPTION_LIMIT,
    CC_BODY,
    CC_FILES,
    CC_FILES_BODY,
    CC_SUBJECT,
    CLOSED_BY_AGENT,
    GROUP_ALREADY_CLOSED,
    GROUP_ALREADY_OPEN,
    GROUP_ANSWER_NOT_DELIVERED,
    GROUP_CLOSED,
    GROUP_FILE_NOT_DELIVERED,
    GROUP_NO_TICKET,
    GROUP_REOPENED,
    REOPENED_BY_AGENT,
)
from dialogs.events import ConversationKey
from dialogs.i18n import Catalogs
from dialogs.ports import Attachment, Clock, Outgoing, TicketStatus
from dialogs.replies import Param, Reply, say, say_n
from dialogs.steps.ticket_files import PHOTO
from storage.ticket_records import TicketRecord
from storage.tickets import SqlTickets

log = logging.getLogger(__name__)

Mail = Callable[[Outgoing, ConversationKey | None], None]


class AgentsSide:
    def __init__(
        self,
        store: SqlTickets,
        catalogs: Catalogs,
        clock: Clock,
        relay: GroupRelay,
        mail: Mail | None = None,
    ) -> None:
        self.store = store
        self.catalogs = catalogs
        self.clock = clock
        self.relay = relay
        self.mail = mail
        """Hands a mail to the courier: CC copies of agents' answers."""

    async def on_group_message(self, message: GroupMessage) -> None:
        group = self.relay.group
        if group is None or message.chat_id != group.chat_id:
            return
        ticket = await self.store.in_group(
            message.chat_id, thread_id=message.thread_id, reply_to=message.reply_to
        )
        if ticket is None:
            if message.command in AGENT_COMMANDS:  # every agent command gets an answer
                await self.relay.answer_agent(
                    message, self.relay.t(GROUP_NO_TICKET, command=message.command)
                )
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
            await self.relay.post(ticket, self.relay.t(already, number=ticket.id))
            return
        metrics.ticket(ticket.kind, "closed" if closing else "reopened")
        note = GROUP_CLOSED if closing else GROUP_REOPENED
        await self.relay.post(
            ticket, self.relay.t(note, number=ticket.id, name=message.sender_name)
        )
        told = CLOSED_BY_AGENT if closing else REOPENED_BY_AGENT
        await self.relay.tell(ticket, Reply(say(told, number=ticket.id, title=ticket.title)))

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
                note = self.relay.t(GROUP_ANSWER_NOT_DELIVERED, number=ticket.id)
                await self.relay.answer_agent(message, note)
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
            if not await self.relay.tell(ticket, Reply(reply)):
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
            await self.relay.answer_agent(
                message, self.relay.t(GROUP_FILE_NOT_DELIVERED, number=ticket.id)
            )
            return False
        if text_apart and not await self._tell_answer(ticket, message.text):
            await self.relay.answer_agent(
                message, self.relay.t(GROUP_ANSWER_NOT_DELIVERED, number=ticket.id)
            )
        return True

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

    async def _note(self, message: GroupMessage, msgid: str, **params: object) -> None:
        """A note for the agent, in the agents' language, as a reply to their message."""
        await self.relay.answer_agent(message, self.relay.t(msgid, **params))
