"""The hot path's Redis budget, measured through the whole bot: at most 2 round trips per
Telegram update (1 when the turn starts from this process's last commit), dedupe and
atomicity included. A code sent also takes one slot of the
shared per-address send cap (issue: at most 5 sends per address per 10 minutes, across
conversations) — in the courier's background task, which no update waits for; updates that
send nothing pay nothing for it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from redis.asyncio.connection import Connection

from bot.outbox import IN_BACKGROUND
from tests.bot.harness import running_bot
from tests.conftest import make_settings


async def test_at_most_two_redis_round_trips_per_update(
    tmp_path: Path, app_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent, background = [0], [0]
    original = Connection.send_packed_command

    async def counting(
        self: Connection, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        (background if IN_BACKGROUND.get() else sent)[0] += 1
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    async with running_bot(make_settings(tmp_path, redis_url=app_redis)) as bot:
        alice = bot.customer()
        await alice.send("/start")  # warm-up: connection handshake, scripts loaded
        per_update = []
        for answer in ["12345", "175074752", "x@", "demo@example.com", "/help", "/back"]:
            before = sent[0]
            await alice.send(answer)
            per_update.append(sent[0] - before)
        duplicate = bot.api.text(alice.user_id, "again")
        await alice.deliver(duplicate)
        before = sent[0]
        await bot.transport.process_json(duplicate)  # redelivered (as a webhook retry would)
        per_update.append(sent[0] - before)
    # One each: the turn starts from the state this process committed last (storage/recent.py)
    # and the commit checks it; the redelivered duplicate is known here: none.
    assert per_update == [1, 1, 1, 1, 1, 1, 0]
    # Off the path, in the dispatcher's tasks: each conversation's settle (what was delivered),
    # the one code sent taking its slot in the cap, and the lease sweep every 2 s.
    assert 1 <= background[0] <= 3 * len(per_update)
