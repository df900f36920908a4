"""What the privacy tests share: a registered customer with a ticket (attachments, CC
addresses, a request for a person), and a scan of every SQL table and Redis key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.support import texts
from dialogs.steps import ticket_files
from dialogs.steps import tickets as steps
from tests.bot.harness import Customer, RunningBot
from tests.support.helpers import EMAIL, NIP, register, t

USER_ID = 5191827364  # a Telegram id that no timestamp or counter contains by chance
CRM_TABLES = frozenset(
    {"customers", "customer_emails", "customer_phones", "contracts", "devices", "crm_sync_state"}
)
"""The company's records (``onboard crm load``): not ours to erase."""
TITLE = "Router Kestrel-7 down"
DESCRIPTION = "Since Monday the Kestrel-7 reboots at dawn"
CC = ("boss@example.com", "it.desk@example.com")
PHONE = "+48 601 234 567"
HUMAN_REASON = f"please call me on {PHONE}"


@dataclass
class Footprint:
    """Everything that identifies the customer or is their content."""

    values: set[str] = field(default_factory=set)

    def found_in(self, blob: str) -> list[str]:
        return sorted(value for value in self.values if value.lower() in blob.lower())


async def walk_and_file(bot: RunningBot, alice: Customer) -> Footprint:
    """Register, file a ticket with two attachments and two CC addresses, ask for a person."""
    footprint = Footprint(
        {str(USER_ID), EMAIL, NIP, TITLE, DESCRIPTION, *CC, "601 234 567", "601234567"}
        | {"Alex", "Przykład"}  # the Telegram user's first name, the CRM customer's name
    )
    await register(alice)
    locale = alice.language_code
    await alice.send("/ticket")
    await alice.press(t(bot, steps.NOTHING_SPECIFIC, locale))
    await alice.send(TITLE)
    await alice.send(DESCRIPTION)
    photo = bot.api.photo(alice.user_id, language_code=locale)
    log = bot.api.document(alice.user_id, "kestrel.log", "text/plain", 2048, language_code=locale)
    await alice.deliver(photo)
    await alice.deliver(log)
    footprint.values |= {
        photo["message"]["photo"][-1]["file_id"],
        log["message"]["document"]["file_id"],
    }
    await alice.press(t(bot, ticket_files.CONTINUE, locale))
    filed = await alice.send(", ".join(CC))
    assert filed == [t(bot, texts.FILED, locale, number=1, title=TITLE)]
    await alice.send(f"/human {HUMAN_REASON}")
    return footprint


async def sql_rows(db: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as dicts."""
    async with db.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        tables = {}
        for name in names:
            result = await connection.execute(text(f'SELECT * FROM "{name}"'))  # noqa: S608
            tables[name] = [dict(row._mapping) for row in result]
    return tables


def blob(value: Any) -> str:
    """A row as text, bytes decoded as far as they are text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict):
        return " ".join(f"{k}={blob(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(blob(v) for v in value)
    return (
        json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    )


async def redis_dump(url: str) -> dict[str, str]:
    """Every key of the app's Redis database with its value as text."""
    client = Redis.from_url(url)
    try:
        dumped = {}
        async for key in client.scan_iter(count=500):
            kind = (await client.type(key)).decode()
            if kind == "string":
                value: Any = await client.get(key)
            elif kind == "hash":
                value = await client.hgetall(key)
            elif kind == "zset":
                value = await client.zrange(key, 0, -1)
            elif kind == "set":
                value = await client.smembers(key)
            elif kind == "list":
                value = await client.lrange(key, 0, -1)
            else:
                value = kind
            dumped[key.decode()] = blob(
                value if not isinstance(value, dict) else list(value.items())
            )
        return dumped
    finally:
        await client.aclose()
