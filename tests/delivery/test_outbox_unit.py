"""The outbox's journaling rule on its own (an in-process Delivery stands in for SMTP; the
journal is the real SQL one): a fast send never writes, a slow one is journaled until it is
settled, and a process stopping mid-send leaves the row for the next process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.outbox import DELIVERY_FAILED, Cap, Outbox
from dialogs.events import ConversationKey
from dialogs.ports import Outgoing
from dialogs.replies import Reply
from storage.db import create_engine, migrate
from storage.models import OutboxJournalRow
from storage.outbox_journal import SqlOutboxJournal

KEY = ConversationKey(1, 7, 7)
MAIL = Outgoing("email", "a@example.com", "en", "Subject", "Body")


class GatedDelivery:
    """Sends when the test opens the gate (instantly when it is open)."""

    def __init__(self, open_: bool = True) -> None:
        self.gate = asyncio.Event()
        if open_:
            self.gate.set()
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        await self.gate.wait()
        self.sent.append(message)


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SqlOutboxJournal]:
    db = create_engine(f"sqlite:///{tmp_path / 'j.db'}")
    await migrate(db)
    yield SqlOutboxJournal(db)
    await db.dispose()


async def rows(journal: SqlOutboxJournal) -> int:
    async with journal._engine.connect() as connection:
        return int((await connection.execute(select(func.count(OutboxJournalRow.id)))).scalar_one())


async def test_a_fast_send_never_touches_the_journal(journal: SqlOutboxJournal) -> None:
    delivery = GatedDelivery()
    outbox = Outbox(delivery, journal=journal, journal_after=0.2)
    outbox.submit(MAIL, KEY)
    await outbox.drain()
    assert len(delivery.sent) == 1
    assert await rows(journal) == 0


async def test_a_slow_send_is_journaled_until_it_is_settled(journal: SqlOutboxJournal) -> None:
    delivery = GatedDelivery(open_=False)
    outbox = Outbox(delivery, journal=journal, journal_after=0.05)
    outbox.submit(MAIL, KEY)
    await asyncio.sleep(0.2)
    assert await rows(journal) == 1  # still in flight after journal_after
    delivery.gate.set()
    await outbox.drain()
    assert await rows(journal) == 0


async def test_stopping_mid_send_leaves_the_row_for_the_next_process(
    journal: SqlOutboxJournal,
) -> None:
    delivery = GatedDelivery(open_=False)
    outbox = Outbox(delivery, journal=journal, journal_after=0.05)
    outbox.submit(MAIL, KEY)
    await asyncio.sleep(0.2)
    await outbox.close(grace_seconds=0)
    assert await rows(journal) == 1
    assert delivery.sent == []


class BrokenLimiter:
    """A send cap whose store is unreachable."""

    async def prepare(self) -> None:
        return None

    async def acquire(self, subject: str, *, now: float, limit: int, window: float) -> float:
        raise ConnectionError("Redis is down")


async def test_a_cap_that_cannot_be_checked_stops_the_send_and_tells_the_customer() -> None:
    told: list[tuple[ConversationKey, list[Reply], str]] = []

    async def notify(key: ConversationKey, replies: list[Reply], locale: str) -> None:
        told.append((key, replies, locale))

    delivery = GatedDelivery()
    outbox = Outbox(delivery, limiter=BrokenLimiter())
    outbox.notify = notify
    outbox.submit(MAIL, KEY, Cap("hash-of-address", limit=5, window=600))
    await outbox.drain()
    assert delivery.sent == []  # no cap, no send: an unbounded sender is what the cap stops
    assert [(key, locale) for key, _, locale in told] == [(KEY, "en")]
    [replies] = [replies for _, replies, _ in told]
    assert replies[0].text.msgid == DELIVERY_FAILED
