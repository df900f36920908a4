"""The 24-hour customer-service window, and the numbered menu last shown in a conversation.

WhatsApp lets a business send free-form messages only within 24 hours of the customer's last
message; after that, only an approved template (error 131047 otherwise). Every inbound message
records its time here; the sender looks before it sends, so a reply owed after the window
closed (an agent answering days later) goes out as the template at once instead of failing
first. The time is the webhook's own ``timestamp`` (when the customer wrote), not ours.

Two backends, like the other shared state: Redis when ``REDIS_URL`` is set (one key per
conversation, expiring with the window), else a table of the SQL database (rows purged by
housekeeping once a day old). Both are shared by every worker.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.models import WhatsAppSentRow, WhatsAppWindowRow

WINDOW_SECONDS = 24 * 3600
MENU_SECONDS = 7 * 86_400


SENT_SECONDS = 2 * 86_400


@dataclass(frozen=True, slots=True)
class Sent:
    """What a message said, for the template if Meta later reports it failed with 131047."""

    conversation: str
    locale: str
    text: str
    at: float


class WindowStore(Protocol):
    async def inbound(self, conversation: str, at: float) -> None:
        """The customer wrote at ``at`` (a later time only ever moves it forward)."""
        ...

    async def last_inbound(self, conversation: str) -> float | None: ...

    async def set_menu(self, conversation: str, menu: tuple[str, ...] | None) -> None:
        """The numbered choices now shown (None: no numbered menu any more)."""
        ...

    async def menu(self, conversation: str) -> tuple[str, ...] | None: ...

    async def shut(self, conversation: str) -> None:
        """Meta says the window is closed (131047 after all): the next replies are templates."""
        ...

    async def remember(self, message_id: str, sent: Sent) -> None:
        """A free-form message that left, kept :data:`SENT_SECONDS` (see :class:`Sent`)."""
        ...

    async def recall(self, message_id: str) -> Sent | None: ...

    async def close(self) -> None: ...


def is_open(last_inbound: float | None, now: float, window: float = WINDOW_SECONDS) -> bool:
    return last_inbound is not None and now - last_inbound < window


class RedisWindows:
    """``ob:wa:in:<conversation>`` (the time, expiring with the window) and
    ``ob:wa:menu:<conversation>`` (JSON), hash-tagged by conversation."""

    def __init__(self, redis: Redis, *, window: float = WINDOW_SECONDS) -> None:
        self._redis = redis
        self._window = window

    @classmethod
    def from_url(cls, url: str) -> RedisWindows:
        return cls(Redis.from_url(url))

    async def inbound(self, conversation: str, at: float) -> None:
        key = f"ob:wa:in:{{{conversation}}}"
        stored = await self._redis.get(key)
        if stored is None or float(stored) < at:
            await self._redis.set(key, repr(at), ex=max(1, int(self._window) + 60))

    async def last_inbound(self, conversation: str) -> float | None:
        stored = await self._redis.get(f"ob:wa:in:{{{conversation}}}")
        return None if stored is None else float(stored)

    async def set_menu(self, conversation: str, menu: tuple[str, ...] | None) -> None:
        key = f"ob:wa:menu:{{{conversation}}}"
        if menu is None:
            await self._redis.delete(key)
        else:
            await self._redis.set(key, json.dumps(list(menu)), ex=MENU_SECONDS)

    async def menu(self, conversation: str) -> tuple[str, ...] | None:
        stored = await self._redis.get(f"ob:wa:menu:{{{conversation}}}")
        return None if stored is None else tuple(json.loads(stored))

    async def shut(self, conversation: str) -> None:
        await self._redis.delete(f"ob:wa:in:{{{conversation}}}")

    async def remember(self, message_id: str, sent: Sent) -> None:
        await self._redis.set(f"ob:wa:sent:{message_id}", json.dumps(asdict(sent)), ex=SENT_SECONDS)

    async def recall(self, message_id: str) -> Sent | None:
        stored = await self._redis.get(f"ob:wa:sent:{message_id}")
        return None if stored is None else Sent(**json.loads(stored))

    async def close(self) -> None:
        await self._redis.aclose()


class SqlWindows:
    """One row per conversation in ``whatsapp_windows``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def inbound(self, conversation: str, at: float) -> None:
        async with self._engine.begin() as connection:
            insert = dialect_insert(connection, WhatsAppWindowRow.__table__)
            await connection.execute(
                insert.values(
                    conversation=conversation, last_inbound_at=at
                ).on_conflict_do_nothing()
            )
            await connection.execute(
                update(WhatsAppWindowRow)
                .where(WhatsAppWindowRow.conversation == conversation)
                .where(WhatsAppWindowRow.last_inbound_at < at)
                .values(last_inbound_at=at)
            )

    async def last_inbound(self, conversation: str) -> float | None:
        query = select(WhatsAppWindowRow.last_inbound_at).where(
            WhatsAppWindowRow.conversation == conversation
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def set_menu(self, conversation: str, menu: tuple[str, ...] | None) -> None:
        stored = None if menu is None else json.dumps(list(menu))
        async with self._engine.begin() as connection:
            await connection.execute(
                update(WhatsAppWindowRow)
                .where(WhatsAppWindowRow.conversation == conversation)
                .values(menu=stored)
            )

    async def menu(self, conversation: str) -> tuple[str, ...] | None:
        query = select(WhatsAppWindowRow.menu).where(WhatsAppWindowRow.conversation == conversation)
        async with self._engine.connect() as connection:
            stored = (await connection.execute(query)).scalar_one_or_none()
        return None if stored is None else tuple(json.loads(stored))

    async def shut(self, conversation: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(WhatsAppWindowRow)
                .where(WhatsAppWindowRow.conversation == conversation)
                .values(last_inbound_at=0.0)
            )

    async def remember(self, message_id: str, sent: Sent) -> None:
        row: dict[str, object] = {"message_id": message_id, "conversation": sent.conversation}
        row |= {"locale": sent.locale, "text": sent.text, "sent_at": sent.at}
        async with self._engine.begin() as connection:
            insert = dialect_insert(connection, WhatsAppSentRow.__table__)
            await connection.execute(insert.values(**row).on_conflict_do_nothing())

    async def recall(self, message_id: str) -> Sent | None:
        row = WhatsAppSentRow
        query = select(row.conversation, row.locale, row.text, row.sent_at).where(
            row.message_id == message_id
        )
        async with self._engine.connect() as connection:
            found = (await connection.execute(query)).first()
        return None if found is None else Sent(*found)

    async def purge(self, *, now: float, older_than: float = MENU_SECONDS) -> int:
        windows = delete(WhatsAppWindowRow).where(
            WhatsAppWindowRow.last_inbound_at < now - older_than
        )
        sent = delete(WhatsAppSentRow).where(WhatsAppSentRow.sent_at < now - SENT_SECONDS)
        async with self._engine.begin() as connection:
            result = await connection.execute(windows)
            await connection.execute(sent)
        return int(getattr(result, "rowcount", 0) or 0)

    async def close(self) -> None:
        """The engine belongs to the app."""
