"""The outbox's journal in SQL: a row per mail or SMS in flight, so a crash between the commit
and the send is noticed and told to the customer instead of being a silent drop.

A row holds the conversation, the channel, the language and the time by which its retries
end (``settle_by``); never the address or the text, since the text carries the one-time code.
The process sending the message deletes the row when it is sent or given up. Rows past
``settle_by`` belong to a process that died: :meth:`take_overdue` removes them atomically (one
DELETE … RETURNING, so two workers never both take a row) for the caller to tell the customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.events import ConversationKey
from storage.models import OutboxJournalRow
from storage.records import parse_key


@dataclass(frozen=True, slots=True)
class Interrupted:
    key: ConversationKey
    channel: str
    locale: str


class SqlOutboxJournal:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self, key: ConversationKey, *, channel: str, locale: str, now: float, settle_by: float
    ) -> int:
        statement = (
            insert(OutboxJournalRow)
            .values(
                conversation_key=str(key),
                channel=channel,
                locale=locale,
                created_at=now,
                settle_by=settle_by,
            )
            .returning(OutboxJournalRow.id)
        )
        async with self._engine.begin() as connection:
            return int((await connection.execute(statement)).scalar_one())

    async def remove(self, entry: int) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(OutboxJournalRow).where(OutboxJournalRow.id == entry))

    async def take_overdue(self, now: float) -> list[Interrupted]:
        row = OutboxJournalRow
        statement = (
            delete(row)
            .where(row.settle_by < now)
            .returning(row.conversation_key, row.channel, row.locale)
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        return [Interrupted(parse_key(key), channel, locale) for key, channel, locale in rows]
