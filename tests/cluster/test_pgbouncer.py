"""The records path through a real PgBouncer in transaction mode (``DATABASE_POOLING=transaction``).

PgBouncer (Debian's package, started on a free port) has two server connections for the
test's database, so consecutive transactions of one client connection land on different server
connections and clients share them: a prepared statement that outlived its transaction, or
two clients' statements of the same name, would fail here.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from dialogs.errors import ConfigError
from dialogs.events import ConversationKey
from storage.crm_import import load_crm
from storage.db import Pooling, create_engine, migrate
from storage.hot_sql import hot_path
from storage.records import SqlRecords
from storage.sql_state import SqlStateStore
from tests.bot.harness import DEMO_CRM, running_bot
from tests.bot.test_bg_flow_telegram import walk_bg_flow
from tests.cluster.servers import pgbouncer
from tests.conftest import PG_ADMIN_DSN, make_settings

pytestmark = pytest.mark.cluster
TRANSACTION = Pooling("transaction", 8)


def through(url: str, port: int) -> str:
    return url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")


def test_transaction_pooling_turns_prepared_statements_off() -> None:
    args = TRANSACTION.connect_args()
    assert args["statement_cache_size"] == 0
    assert args["prepared_statement_cache_size"] == 0
    names = {args["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3  # unique per statement: clients sharing a server never collide
    assert Pooling().connect_args() == {}
    assert TRANSACTION.engine_options()["pool_size"] + TRANSACTION.hot_size == 6  # 2 overflow


@pytest.mark.cli
def test_wrong_pooling_settings_are_one_line_each() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, database_pooling="statement", database_pool_size="2")
    assert str(raised.value).splitlines() == [
        "DATABASE_POOLING must be one of 'session' or 'transaction', got 'statement'",
        "DATABASE_POOL_SIZE must be at least 4, got '2'",
    ]


async def _sums(engine: AsyncEngine, *, autocommit: bool) -> None:
    reader = engine.execution_options(isolation_level="AUTOCOMMIT") if autocommit else engine

    async def one(number: int) -> None:
        async with reader.connect() as connection:
            query = text("SELECT CAST(:x AS integer) + 1")
            assert await connection.scalar(query, {"x": number}) == number + 1

    for _ in range(5):
        await asyncio.gather(*(one(n) for n in range(40)))


async def test_without_the_setting_pgbouncer_breaks_prepared_statements() -> None:
    """The control: the test bed really moves transactions between server connections."""
    async with pgbouncer(pool_size=2) as port:
        session = create_engine(through(PG_ADMIN_DSN, port), Pooling("session", 16))
        pooled = create_engine(through(PG_ADMIN_DSN, port), Pooling("transaction", 16))
        try:
            with pytest.raises(DBAPIError, match="prepared statement"):
                await _sums(session, autocommit=False)
            await _sums(pooled, autocommit=False)  # the setting's reads run in transactions
        finally:
            await session.dispose()
            await pooled.dispose()


async def test_a_customer_walks_the_flow_through_pgbouncer(
    tmp_path: Path, pg_database: str
) -> None:
    """Records and the embedded state store (no Redis) both through PgBouncer."""
    async with pgbouncer(pool_size=2) as port:
        settings = make_settings(
            tmp_path, database_url=through(pg_database, port), database_pooling="transaction"
        )
        async with running_bot(settings) as bot:
            await walk_bg_flow(bot, "de")


async def test_records_and_states_under_concurrency_through_pgbouncer(pg_database: str) -> None:
    async with pgbouncer(pool_size=2) as port:
        url = through(pg_database, port)
        engine = create_engine(url, TRANSACTION)
        await migrate(engine)
        hot = hot_path(engine, pooling=TRANSACTION)
        records = SqlRecords(engine, hot)
        store = SqlStateStore(engine, ttl_seconds=600, clock=time.time, pooled=True)
        try:
            await load_crm(engine, DEMO_CRM)

            def match(email: str):  # type: ignore[no-untyped-def]
                return records.match_customer(tax_scheme="bg_eik", tax_id="175074752", email=email)

            matches = await asyncio.gather(*(match("demo@example.com") for _ in range(60)))
            assert {m.name if m else None for m in matches} == {"Demo Ltd."}
            assert await match("else@example.com") is None
            keys = [ConversationKey(1, chat, chat) for chat in range(1, 31)]
            snapshots = await asyncio.gather(*(store.begin(key, 1) for key in keys))
            results = await asyncio.gather(
                *(
                    store.commit(key, snap.version, b'{"step":"x"}', 1, [])
                    for key, snap in zip(keys, snapshots, strict=True)
                )
            )
            assert all(results)
            again = await asyncio.gather(*(store.begin(key, 1) for key in keys))
            assert all(snapshot.duplicate for snapshot in again)
        finally:
            await store.close()
            await hot.close()
            await engine.dispose()
