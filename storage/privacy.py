"""What the records hold about one chat's user (/mydata) and their erasure (/forget), issue 20.

The CRM's own records (customers, their e-mails and phones, contracts, devices) are the
company's and stay; so do consents, which are the company's proof of a declaration its
customer made. Everything the bot wrote because of this chat goes: the customer link,
accounts, hand-off tokens, profiles, invitations redeemed here, requests for a person and
the funnel's step events. Tickets stay as anonymised records (kind, status, language, times)
for the company's statistics, or go altogether (``delete_tickets``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs.events import ConversationKey
from storage.models import (
    AccountRow,
    ConsentRow,
    CustomerLinkRow,
    CustomerRow,
    FunnelEventRow,
    HandoffTokenRow,
    HumanRequestRow,
    InvitationRow,
    ProfileRow,
    TicketGroupMessageRow,
    TicketMessageRow,
    TicketRow,
)

ERASED_KEY = "0:0:0"
"""The conversation of an anonymised ticket: nobody's (bot, chat and user 0)."""


class SqlPrivacy:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ticket_numbers(self, key: ConversationKey) -> list[int]:
        query = select(TicketRow.id).where(TicketRow.conversation_key == str(key))
        async with self._engine.connect() as connection:
            return [int(number) for number in await connection.scalars(query)]

    async def erase(
        self, key: ConversationKey, *, funnel_customer: str, delete_tickets: bool
    ) -> int:
        """Erase ``key``'s records in one transaction; return how many tickets it had."""
        name = str(key)
        async with self._engine.begin() as connection:
            numbers = list(
                await connection.scalars(
                    select(TicketRow.id).where(TicketRow.conversation_key == name)
                )
            )
            await _erase_tickets(connection, numbers, delete_tickets)
            requests = select(HumanRequestRow.id).where(HumanRequestRow.conversation_key == name)
            await connection.execute(
                update(TicketRow).where(TicketRow.request_id.in_(requests)).values(request_id=None)
            )
            for table, column in (
                (HumanRequestRow, HumanRequestRow.conversation_key),
                (CustomerLinkRow, CustomerLinkRow.conversation_key),
                (AccountRow, AccountRow.conversation_key),
                (HandoffTokenRow, HandoffTokenRow.conversation_key),
                (ProfileRow, ProfileRow.conversation_key),
                (InvitationRow, InvitationRow.used_by),
            ):
                await connection.execute(delete(table).where(column == name))
            await connection.execute(
                delete(FunnelEventRow).where(FunnelEventRow.customer == funnel_customer)
            )
        return len(numbers)

    async def holdings(self, key: ConversationKey) -> dict[str, Any]:
        """Everything the records hold about ``key`` (never a token, hash or code)."""
        name = str(key)
        async with self._engine.connect() as connection:
            link = (
                await connection.execute(
                    select(CustomerLinkRow.customer_id, CustomerLinkRow.linked_at).where(
                        CustomerLinkRow.conversation_key == name
                    )
                )
            ).first()
            data: dict[str, Any] = {
                "customer": None if link is None else await _customer(connection, *link),
                "tickets": await _tickets(connection, name),
                "requests_for_a_person": await _rows(
                    connection,
                    select(
                        HumanRequestRow.kind,
                        HumanRequestRow.flow,
                        HumanRequestRow.step,
                        HumanRequestRow.reason,
                        HumanRequestRow.details,
                        HumanRequestRow.created_at,
                    ).where(HumanRequestRow.conversation_key == name),
                ),
                "accounts": await _rows(
                    connection,
                    select(
                        AccountRow.created_at,
                        AccountRow.password_set_at,
                        AccountRow.pin_set_at,
                    ).where(AccountRow.conversation_key == name),
                ),
                "profiles": await _rows(
                    connection,
                    select(
                        ProfileRow.username,
                        ProfileRow.edition,
                        ProfileRow.two_factor_phone,
                        ProfileRow.visible,
                        ProfileRow.saved_at,
                    ).where(ProfileRow.conversation_key == name),
                ),
                "links": await _rows(
                    connection,
                    select(
                        HandoffTokenRow.purpose, HandoffTokenRow.expires_at, HandoffTokenRow.used_at
                    ).where(HandoffTokenRow.conversation_key == name),
                ),
                "invitations": await _rows(
                    connection,
                    select(
                        InvitationRow.flow,
                        InvitationRow.edition,
                        InvitationRow.created_at,
                        InvitationRow.used_at,
                    ).where(InvitationRow.used_by == name),
                ),
            }
        return data


async def _erase_tickets(connection: AsyncConnection, numbers: list[int], drop: bool) -> None:
    if not numbers:
        return
    messages = TicketMessageRow.ticket_id.in_(numbers)
    if drop:
        await connection.execute(delete(TicketMessageRow).where(messages))
        await connection.execute(
            delete(TicketGroupMessageRow).where(TicketGroupMessageRow.ticket_id.in_(numbers))
        )
        await connection.execute(delete(TicketRow).where(TicketRow.id.in_(numbers)))
        return
    await connection.execute(
        update(TicketMessageRow)
        .where(messages)
        .values(text="", attachments=[], author_name=None, author_user_id=None)
    )
    await connection.execute(
        update(TicketRow)
        .where(TicketRow.id.in_(numbers))
        .values(
            conversation_key=ERASED_KEY,
            chat_id=0,
            customer_id=None,
            title="",
            description="",
            contract=None,
            device=None,
            cc=[],
        )
    )


async def _rows(connection: AsyncConnection, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in await connection.execute(query)]


async def _customer(connection: AsyncConnection, customer_id: int, linked_at: float) -> Any:
    """The CRM customer this chat registered as, and the consents recorded for it."""
    row = (
        await connection.execute(
            select(CustomerRow.name, CustomerRow.tax_scheme, CustomerRow.tax_id).where(
                CustomerRow.id == customer_id
            )
        )
    ).first()
    consents = await _rows(
        connection,
        select(ConsentRow.kind, ConsentRow.given_at).where(ConsentRow.customer_id == customer_id),
    )
    crm = {} if row is None else dict(row._mapping)
    return {"linked_at": linked_at, **crm, "consents": consents}


async def _tickets(connection: AsyncConnection, name: str) -> list[dict[str, Any]]:
    tickets = await _rows(
        connection,
        select(
            TicketRow.id.label("number"),
            TicketRow.kind,
            TicketRow.status,
            TicketRow.title,
            TicketRow.description,
            TicketRow.contract,
            TicketRow.device,
            TicketRow.cc,
            TicketRow.created_at,
            TicketRow.updated_at,
        )
        .where(TicketRow.conversation_key == name)
        .order_by(TicketRow.id),
    )
    for ticket in tickets:
        messages = await _rows(
            connection,
            select(
                TicketMessageRow.author,
                TicketMessageRow.text,
                TicketMessageRow.attachments,
                TicketMessageRow.at,
            )
            .where(TicketMessageRow.ticket_id == ticket["number"])
            .order_by(TicketMessageRow.at, TicketMessageRow.id),
        )
        for message in messages:  # what was sent, never Telegram's file ids
            message["attachments"] = [
                {"kind": a.get("kind"), "name": a.get("name"), "size": a.get("size")}
                for a in message["attachments"] or []
            ]
        ticket["messages"] = messages
    return tickets
