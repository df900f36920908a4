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

from bot.channels.telegram.render import TELEGRAM_TEXT_LIMIT
from bot.ops import metrics
from bot.support.agents import AgentsSide, Mail
from bot.support.card import escape, split_text
from bot.support.group import AgentsGroup, GroupMessage, GroupRelay
from bot.support.texts import (
    CALLBACK_TITLE,
    CALLBACK_WITHIN,
    CC_ADDED,
    FILED,
    GROUP_CC,
    GROUP_CUSTOMER,
    GROUP_CUSTOMER_CLOSED,
    GROUP_CUSTOMER_REOPENED,
    GROUP_ERASED,
    HELP_TITLE,
    NOT_PASSED_ON,
    SENT,
)
from dialogs.i18n import Catalogs
from dialogs.ports import Attachment, Clock, HumanRequest, NewTicket, TicketKind, TicketStatus
from dialogs.replies import Reply, say
from storage.tickets import SqlTickets

log = logging.getLogger(__name__)


class SupportDesk:
    def __init__(
        self,
        store: SqlTickets,
        catalogs: Catalogs,
        clock: Clock,
        *,
        locale: str = "en",
        group: AgentsGroup | None = None,
        mail: Mail | None = None,
    ) -> None:
        self.store = store
        self.catalogs = catalogs
        self.clock = clock
        self.locale = locale  # the agents' language (card labels, notes in the group)
        self.relay = GroupRelay(store, catalogs, locale, group)
        self.agents = AgentsSide(store, catalogs, clock, self.relay, mail)

    @property
    def group(self) -> AgentsGroup | None:
        """The agents' group (SUPPORT_CHAT_ID), None: no relay."""
        return self.relay.group

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
        await self.relay.to_group(number, ticket.attachments)
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
            await self.relay.to_group(number, ())
            return number
        stored = await self.store.record(ticket.ref)  # an earlier try stored it
        if stored is not None and stored.card_message_id is None and self.group is not None:
            await self.relay.to_group(stored.id, ())
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
            passed = await self.relay.copy_in(ticket, message_id)
        elif text:
            name = escape(ticket.customer_name or self.relay.t(GROUP_CUSTOMER))
            prefix = f"<b>#{ticket.id}</b> · {name}:\n"
            for piece in split_text(text, TELEGRAM_TEXT_LIMIT - len(prefix)):
                passed = await self.relay.post(ticket, prefix + escape(piece)) and passed
        # "Added" only when the agents' group took it (or there is no group to take it)
        return Reply(say(SENT if passed else NOT_PASSED_ON, number=ticket.id))

    async def customer_status(self, ref: str, status: TicketStatus, at: float) -> None:
        ticket = await self.store.record(ref)
        if ticket is None or not await self.store.set_status(ticket.id, status, at):
            return
        metrics.ticket(ticket.kind, "closed" if status is TicketStatus.CLOSED else "reopened")
        note = GROUP_CUSTOMER_CLOSED if status is TicketStatus.CLOSED else GROUP_CUSTOMER_REOPENED
        await self.relay.post(ticket, self.relay.t(note, number=ticket.id))

    async def add_cc(self, ref: str, emails: tuple[str, ...]) -> Reply | None:
        ticket = await self.store.record(ref)
        if ticket is None:
            return None
        merged = await self.store.add_cc(ticket.id, emails)
        await self.relay.post(
            ticket, self.relay.t(GROUP_CC, number=ticket.id, emails=", ".join(merged))
        )
        return Reply(say(CC_ADDED, number=ticket.id, emails=", ".join(emails)))

    async def tell_erased(self, number: int) -> None:
        """/forget: the agents learn that the ticket's content is about to go (issue 20)."""
        ticket = await self.store.record(number=number)
        if ticket is not None:
            await self.relay.post(ticket, self.relay.t(GROUP_ERASED, number=number))

    # -- the agents' side ----------------------------------------------------------------

    async def on_group_message(self, message: GroupMessage) -> None:
        await self.agents.on_group_message(message)
