"""Support tickets in SQL: the Telegram user -> customer link, tickets, every message in both
directions (author, time, attachments), and the map from the agents' group messages to
tickets. Implements :class:`dialogs.ports.TicketLookup`; the writes serve ``bot/support``.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs.events import ConversationKey
from dialogs.ports import (
    Attachment,
    NewTicket,
    TicketEntry,
    TicketKind,
    TicketStatus,
    TicketSummary,
)
from storage.db import dialect_insert
from storage.models import (
    CustomerLinkRow,
    CustomerRow,
    HumanRequestRow,
    TicketGroupMessageRow,
    TicketMessageRow,
    TicketRow,
)
from storage.ticket_records import TicketRecord, ticket_record, ticket_summary


def _attachments(items: tuple[Attachment, ...]) -> list[dict[str, object]]:
    return [{"file_id": a.file_id, "kind": a.kind, "name": a.name, "size": a.size} for a in items]


class SqlTickets:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )

    # -- the link ---------------------------------------------------------------------------

    async def link_customer(self, key: ConversationKey, customer_id: int, at: float) -> None:
        async with self._engine.begin() as connection:
            upsert = dialect_insert(connection, CustomerLinkRow).values(
                conversation_key=str(key), customer_id=customer_id, linked_at=at
            )
            await connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=["conversation_key"],
                    set_={"customer_id": customer_id, "linked_at": at},
                )
            )

    async def customer_of(self, key: ConversationKey) -> int | None:
        query = select(CustomerLinkRow.customer_id).where(
            CustomerLinkRow.conversation_key == str(key)
        )
        async with self._engine.connect() as connection:
            value = await connection.scalar(query)
        return None if value is None else int(value)

    # -- writing ----------------------------------------------------------------------------

    async def open(
        self,
        ticket: NewTicket,
        *,
        kind: TicketKind = TicketKind.TICKET,
        request_id: int | None = None,
        due_at: float | None = None,
    ) -> int | None:
        """Store the ticket and its first message; None if ``ref`` is stored already."""
        async with self._engine.begin() as connection:
            upsert = dialect_insert(connection, TicketRow).values(
                ref=ticket.ref,
                conversation_key=str(ticket.key),
                chat_id=ticket.key.chat_id,
                customer_id=ticket.customer_id,
                kind=kind.value,
                status=TicketStatus.OPEN.value,
                title=ticket.title[:200],
                description=ticket.description,
                contract=ticket.contract,
                device=ticket.device,
                cc=list(ticket.cc),
                locale=ticket.locale,
                request_id=request_id,
                created_at=ticket.created_at,
                updated_at=ticket.created_at,
                due_at=due_at,
            )
            result = await connection.execute(
                upsert.on_conflict_do_nothing(index_elements=["ref"]).returning(TicketRow.id)
            )
            number = result.scalar()
            if number is None:
                return None
            if not ticket.description:  # a /human without words: no empty first entry
                return int(number)
            await connection.execute(
                insert(TicketMessageRow).values(
                    ticket_id=number,
                    author="customer",
                    text=ticket.description,
                    attachments=_attachments(ticket.attachments),
                    at=ticket.created_at,
                )
            )
        return int(number)

    async def add_message(
        self,
        ticket_id: int,
        *,
        author: str,
        text: str,
        at: float,
        attachments: tuple[Attachment, ...] = (),
        author_name: str | None = None,
        author_user_id: int | None = None,
    ) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(TicketMessageRow).values(
                    ticket_id=ticket_id,
                    author=author,
                    author_name=author_name,
                    author_user_id=author_user_id,
                    text=text,
                    attachments=_attachments(attachments),
                    at=at,
                )
            )
            await connection.execute(
                update(TicketRow).where(TicketRow.id == ticket_id).values(updated_at=at)
            )

    async def set_status(self, ticket_id: int, status: TicketStatus, at: float) -> bool:
        """True if the status changed (closing a closed ticket changes nothing)."""
        statement = (
            update(TicketRow)
            .where(TicketRow.id == ticket_id, TicketRow.status != status.value)
            .values(status=status.value, updated_at=at)
        )
        async with self._engine.begin() as connection:
            return bool((await connection.execute(statement)).rowcount)

    async def add_cc(self, ticket_id: int, emails: tuple[str, ...]) -> tuple[str, ...]:
        async with self._engine.begin() as connection:
            query = select(TicketRow.cc).where(TicketRow.id == ticket_id).with_for_update()
            current = list(await connection.scalar(query) or [])
            merged = list(dict.fromkeys([*current, *emails]))
            await connection.execute(
                update(TicketRow).where(TicketRow.id == ticket_id).values(cc=merged)
            )
        return tuple(merged)

    async def place(
        self, ticket_id: int, *, chat_id: int, thread_id: int | None, card_message_id: int
    ) -> None:
        """Where the agents see the ticket (its topic, its card)."""
        statement = (
            update(TicketRow)
            .where(TicketRow.id == ticket_id)
            .values(group_chat_id=chat_id, thread_id=thread_id, card_message_id=card_message_id)
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)
        await self.map_group_message(ticket_id, chat_id, card_message_id)

    async def map_group_message(self, ticket_id: int, chat_id: int, message_id: int) -> bool:
        """Remember a group message of the ticket; False when it was already known (Telegram
        redelivered the update, or another worker has it): handle each message once."""
        async with self._engine.begin() as connection:
            upsert = dialect_insert(connection, TicketGroupMessageRow).values(
                chat_id=chat_id, message_id=message_id, ticket_id=ticket_id
            )
            result = await connection.execute(upsert.on_conflict_do_nothing())
        return bool(result.rowcount)

    # -- reading ----------------------------------------------------------------------------

    async def record(
        self, ref: str | None = None, number: int | None = None
    ) -> TicketRecord | None:
        query = (
            select(TicketRow, CustomerRow.name, HumanRequestRow)
            .outerjoin(CustomerRow, CustomerRow.id == TicketRow.customer_id)
            .outerjoin(HumanRequestRow, HumanRequestRow.id == TicketRow.request_id)
            .where(TicketRow.ref == ref if ref is not None else TicketRow.id == number)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else ticket_record(row[0], row[1], row[2])

    async def in_group(
        self, chat_id: int, *, thread_id: int | None, reply_to: int | None
    ) -> TicketRecord | None:
        """The ticket a group message belongs to: its forum topic, or the message it replies
        to (the card, a relayed message, an agent's answer) in our own map."""
        number = None
        async with self._engine.connect() as connection:
            if thread_id is not None:
                number = await connection.scalar(
                    select(TicketRow.id).where(
                        TicketRow.group_chat_id == chat_id, TicketRow.thread_id == thread_id
                    )
                )
            for message_id in (reply_to, thread_id):
                if number is None and message_id is not None:
                    number = await connection.scalar(
                        select(TicketGroupMessageRow.ticket_id).where(
                            TicketGroupMessageRow.chat_id == chat_id,
                            TicketGroupMessageRow.message_id == message_id,
                        )
                    )
        return None if number is None else await self.record(number=int(number))

    async def tickets_of(self, key: ConversationKey) -> list[TicketSummary]:
        query = (
            select(TicketRow)
            .where(TicketRow.conversation_key == str(key))
            .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [ticket_summary(row) for row in rows]

    async def ticket(self, ref: str) -> TicketSummary | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(TicketRow).where(TicketRow.ref == ref))).first()
        return None if row is None else ticket_summary(row)

    async def entries(self, ref: str) -> list[TicketEntry]:
        query = (
            select(TicketMessageRow)
            .join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
            .where(TicketRow.ref == ref)
            .order_by(TicketMessageRow.at.desc(), TicketMessageRow.id.desc())
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [TicketEntry(r.author, r.text, r.at, len(r.attachments or [])) for r in rows]
