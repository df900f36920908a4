"""/mydata and /forget through the Telegram transport: a registered customer with a ticket
(attachments, CC addresses) and a request for a person asks for their data, then for its
erasure; afterwards no SQL row outside the CRM's records and no Redis key holds anything of
theirs. On Redis with PostgreSQL, and on the embedded store (SQLite, no Redis)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot import privacy as office
from bot.support import texts
from dialogs import privacy
from tests.bot.harness import Customer, RunningBot
from tests.privacy.helpers import (
    CC,
    CRM_TABLES,
    DESCRIPTION,
    HUMAN_REASON,
    TITLE,
    USER_ID,
    Footprint,
    blob,
    redis_dump,
    sql_rows,
    walk_and_file,
)
from tests.support.helpers import EMAIL, NIP, group_texts, support_bot, t

pytestmark = pytest.mark.privacy


def documents(bot: RunningBot) -> list[dict[str, Any]]:
    """The JSON documents sent to the customer, oldest first."""
    sent = [c for c in bot.api.calls_to("sendDocument") if c.status == 200]
    return [json.loads(c.params["document"].data) for c in sent]


async def mydata(bot: RunningBot, alice: Customer) -> dict[str, Any]:
    assert await alice.send("/mydata") == []  # the document is the answer
    call = bot.api.calls_to("sendDocument")[-1]
    assert call.params["document"].filename == office.FILENAME
    assert call.params["caption"] == t(bot, office.MYDATA, alice.language_code)
    return documents(bot)[-1]


async def forget(bot: RunningBot, alice: Customer) -> list[str]:
    assert await alice.send("/forget") == [t(bot, privacy.FORGET_ASK, alice.language_code)]
    return await alice.press(t(bot, privacy.FORGET_YES, alice.language_code))


def check_document(held: dict[str, Any], footprint: Footprint) -> None:
    assert held["customer"]["name"] == "Przykład Sp. z o.o."
    assert held["customer"]["tax_id"] == NIP
    assert held["conversation"]["home"] == "test-register"
    assert "ticket_ref" in held["conversation"]["answers"]  # the ticket flow's, as stored
    ticket, help_ticket = held["tickets"]
    assert (ticket["title"], ticket["description"]) == (TITLE, DESCRIPTION)
    assert ticket["cc"] == list(CC)
    assert ticket["messages"][0]["text"] == DESCRIPTION
    names = [a["name"] for m in ticket["messages"] for a in m["attachments"]]
    assert "kestrel.log" in names
    assert help_ticket["kind"] == "help"
    assert held["requests_for_a_person"][0]["reason"] == HUMAN_REASON
    assert held["generated_at"].endswith("+00:00")  # times in ISO 8601, UTC
    # Telegram's file ids are kept for the agents, not handed out; no token or hash either.
    text_of = json.dumps(held)
    assert not [v for v in footprint.values if v.startswith("Ag") and v in text_of]
    assert "digest" not in text_of
    assert "token_hash" not in text_of


async def held_anywhere(bot: RunningBot, footprint: Footprint, redis_url: str | None) -> set[str]:
    """Which of the footprint's values any SQL row (but the CRM's) or Redis key holds."""
    await bot.app.dispatcher.settled()  # delivered items are settled (removed) too
    tables = await sql_rows(bot.app.db)
    assert set(tables) >= CRM_TABLES  # the CRM's records are there, and left alone
    found = {
        value
        for name, rows in tables.items()
        if name not in CRM_TABLES
        for row in rows
        for value in footprint.found_in(blob(row))
    }
    if redis_url is not None:
        for key, value in (await redis_dump(redis_url)).items():
            found |= set(footprint.found_in(key + value))
    return found


async def check_nothing_left(bot: RunningBot, footprint: Footprint, redis_url: str | None) -> None:
    assert await held_anywhere(bot, footprint, redis_url) == set()


async def test_mydata_then_forget_on_redis_and_postgresql(
    tmp_path: Path, app_redis: str, pg_database: str
) -> None:
    await mydata_then_forget(tmp_path, app_redis, database_url=pg_database)


async def test_mydata_then_forget_on_the_embedded_store(tmp_path: Path) -> None:
    await mydata_then_forget(tmp_path, None)


async def mydata_then_forget(tmp_path: Path, redis_url: str | None, **settings: Any) -> None:
    async with support_bot(tmp_path, redis_url, forum=True, **settings) as bot:
        alice = bot.customer(user_id=USER_ID, language_code="pl")
        footprint = await walk_and_file(bot, alice)
        before = await held_anywhere(bot, footprint, redis_url)
        assert before >= {str(USER_ID), TITLE, DESCRIPTION, *CC, "601 234 567"}  # not vacuous
        check_document(await mydata(bot, alice), footprint)

        assert await forget(bot, alice) == [t(bot, office.FORGOTTEN, "pl")]
        erased = [m["text"] for m in group_texts(bot)[-2:]]
        assert erased == [t(bot, texts.GROUP_ERASED, "en", number=n) for n in (1, 2)]
        await check_nothing_left(bot, footprint, redis_url)

        async with bot.app.db.connect() as connection:  # anonymised, for the statistics
            kept = (await connection.execute(text("SELECT kind, status, title FROM tickets"))).all()
        assert sorted(map(tuple, kept)) == [("help", "open", ""), ("ticket", "open", "")]

        held = await mydata(bot, alice)  # a new conversation, which knows nothing of them
        assert held["customer"] is None
        assert held["tickets"] == held["requests_for_a_person"] == []
        # Again: nothing more to erase but that new conversation; the customer hears the same.
        assert await forget(bot, alice) == [t(bot, office.FORGOTTEN, "pl")]
        await check_nothing_left(bot, footprint, redis_url)


async def test_forget_mid_flow_and_with_tickets_deleted(tmp_path: Path, app_redis: str) -> None:
    async with support_bot(tmp_path, app_redis, forum=False, forget_tickets="delete") as bot:
        alice = bot.customer(user_id=USER_ID, language_code="de")
        footprint = await walk_and_file(bot, alice)
        await alice.send("/cancel")  # leaves the ticket; /start: the registration again
        await alice.send("/start")
        await alice.send(NIP)  # mid-flow: the answer is in the conversation
        assert await alice.send("/forget") == [t(bot, privacy.FORGET_ASK, "de")]
        assert await alice.press(t(bot, privacy.FORGET_NO, "de")) == [
            t(bot, privacy.FORGET_KEPT, "de"),
            t(
                bot,
                "Now enter the e-mail address for correspondence that is recorded with us.",
                "de",
            ),
        ]
        assert await forget(bot, alice) == [t(bot, office.FORGOTTEN_DELETED, "de")]
        await check_nothing_left(bot, footprint, app_redis)
        async with bot.app.db.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM tickets")) == 0
        # The e-mail answer now is just text: the conversation is gone, a new one starts.
        assert EMAIL not in " ".join(await alice.send(EMAIL))
