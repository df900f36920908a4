"""A mail in flight when its process stops is not lost silently: the outbox journal (SQL)
remembers whom to tell, never the address or the code, and the next process tells the customer,
who then asks for a new code and finishes."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from sqlalchemy import select

from bot.outbox import DELIVERY_FAILED
from dialogs import durations
from dialogs.commands import RESUME
from dialogs.steps import code as code_step
from storage.models import OutboxJournalRow
from tests.bot.test_bg_flow_telegram import HANDOFF, t
from tests.conftest import make_settings
from tests.delivery.harness import Clock, delivering_bot
from tests.delivery.servers import Mailbox, smtp_server
from tests.delivery.test_mail import smtp_settings


async def test_a_mail_in_flight_when_the_process_stops_is_told_by_the_next_process(
    tmp_path: Path,
) -> None:
    mailbox, clock = Mailbox(), Clock()
    settings = make_settings(tmp_path, **smtp_settings(tmp_path, mailbox))  # no SMTP server yet

    async with delivering_bot(settings, clock) as first:
        first.app.effects.outbox.retry_delays = (30.0,)  # still retrying when we stop
        alice = first.customer(user_id=77, language_code="bg")
        await alice.send("/start")
        await alice.send("175074752")
        await alice.send("demo@example.com")
        rows: list[object] = []
        for _ in range(100):  # the first try fails at once (no server); then it is journaled
            async with first.app.db.connect() as connection:
                rows = list((await connection.execute(select(OutboxJournalRow))).all())
            if rows:
                break
            await asyncio.sleep(0.05)
        assert len(rows) == 1
        assert "@" not in repr(rows)  # no address (and no text, so no code) is kept
        settle = first.app.effects.outbox.settle_seconds()
        await first.app.effects.outbox.close(grace_seconds=0)  # the process stops mid-retry
        assert alice.read_new() == []  # nobody told yet

    async with delivering_bot(settings, clock) as second:
        outbox = second.app.effects.outbox
        # Telegram's update ids keep growing across our restarts (the store dedupes by them).
        second.api.state._update_ids = itertools.count(200_000_001)
        clock.now += settle - 1
        assert await outbox.recover() == 0  # maybe another process is still retrying
        clock.now += 2
        assert await outbox.recover() == 1
        assert await outbox.recover() == 0  # told once
        told = await second.api.wait_for_messages(77, 1)
        assert [m["text"] for m in told] == [t(DELIVERY_FAILED, "bg")]

        async with smtp_server(mailbox):
            alice = second.customer(user_id=77, language_code="bg")
            assert alice.read_new() == [t(DELIVERY_FAILED, "bg")]
            resumed = await alice.send("/start")  # back in the chat: where was I?
            assert resumed[0] == t(RESUME, "bg")
            clock.now += 60
            assert await alice.press(t(code_step.RESEND, "bg")) == [
                t(code_step.RESENT, "bg", address="demo@example.com")
            ]
            await outbox.drain()
            assert await alice.send(mailbox.code()) == [
                t(HANDOFF, "bg", minutes=durations.minutes(30))
            ]
        async with second.app.db.connect() as connection:
            assert (await connection.execute(select(OutboxJournalRow))).all() == []
