"""The ticket effects of a committed turn, handed to the support desk."""

from __future__ import annotations

from bot.support.desk import SupportDesk
from dialogs.effects import (
    AddTicketMessage,
    LinkCustomer,
    OpenTicket,
    SetTicketStatus,
    TicketEffect,
)
from dialogs.replies import Reply


async def run_ticket_effect(desk: SupportDesk | None, effect: TicketEffect) -> Reply | None:
    """Run one effect; return what to tell the customer (e.g. the new ticket's number)."""
    if isinstance(effect, LinkCustomer):
        if desk is not None:  # without a desk there are no tickets to link for
            await desk.store.link_customer(effect.key, effect.customer_id, effect.linked_at)
        return None
    if desk is None:
        raise RuntimeError("a ticket effect runs but no support desk is wired")
    if isinstance(effect, OpenTicket):
        return await desk.open(effect.ticket)
    if isinstance(effect, AddTicketMessage):
        return await desk.customer_message(
            effect.ref, effect.text, effect.attachments, effect.message_id, effect.at
        )
    if isinstance(effect, SetTicketStatus):
        await desk.customer_status(effect.ref, effect.status, effect.at)
        return None
    return await desk.add_cc(effect.ref, effect.emails)
