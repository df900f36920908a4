"""A ticket as the support desk reads it (:class:`TicketRecord`, with its customer and the
request for a person it came from) and as the customer's ticket list reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.events import ConversationKey
from dialogs.ports import HumanRequest, TicketKind, TicketStatus, TicketSummary
from storage.models import HumanRequestRow, TicketRow


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """A ticket with everything the agents' card shows."""

    id: int
    ref: str
    key: ConversationKey
    kind: TicketKind
    status: TicketStatus
    title: str
    description: str
    locale: str
    created_at: float
    customer_id: int | None = None
    customer_name: str | None = None
    contract: str | None = None
    device: str | None = None
    cc: tuple[str, ...] = ()
    due_at: float | None = None
    group_chat_id: int | None = None
    thread_id: int | None = None
    card_message_id: int | None = None
    context: HumanRequest | None = None


def ticket_summary(row: Any) -> TicketSummary:
    return TicketSummary(
        ref=row.ref,
        number=row.id,
        title=row.title,
        status=TicketStatus(row.status),
        kind=TicketKind(row.kind),
        updated_at=row.updated_at,
    )


def ticket_record(
    ticket: TicketRow, customer_name: str | None, request: HumanRequestRow | None
) -> TicketRecord:
    context = None
    if request is not None:
        context = HumanRequest(
            key=ConversationKey.parse(request.conversation_key),
            flow=request.flow,
            step=request.step,
            locale=request.locale,
            reason=request.reason,
            created_at=request.created_at,
            kind=request.kind,
            details=dict(request.details or {}),
        )
    return TicketRecord(
        id=ticket.id,
        ref=ticket.ref,
        key=ConversationKey.parse(ticket.conversation_key),
        kind=TicketKind(ticket.kind),
        status=TicketStatus(ticket.status),
        title=ticket.title,
        description=ticket.description,
        locale=ticket.locale,
        created_at=ticket.created_at,
        customer_id=ticket.customer_id,
        customer_name=customer_name,
        contract=ticket.contract,
        device=ticket.device,
        cc=tuple(ticket.cc or ()),
        due_at=ticket.due_at,
        group_chat_id=ticket.group_chat_id,
        thread_id=ticket.thread_id,
        card_message_id=ticket.card_message_id,
        context=context,
    )
