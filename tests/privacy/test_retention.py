"""Retention (issue 20): housekeeping deletes exactly what is past its RETAIN_* time, on Redis
with SQLite and on the embedded store with PostgreSQL; the clock is moved, not waited for."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from bot.app import App, build_app
from bot.config import load_settings
from dialogs.errors import ConfigError
from dialogs.events import ConversationKey
from dialogs.owed import commit_nonce, item_id
from dialogs.ports import HumanRequest, NewTicket, TicketStatus
from dialogs.state import ConversationState, Status
from storage.limits import SqlSendLimiter
from storage.models import GuestCodeRow, InvitationRow
from storage.tickets import SqlTickets
from tests.chaos.harness import NEEDS_REDIS_SERVER
from tests.cluster.redis_cluster import Cluster
from tests.conftest import make_settings

pytestmark = pytest.mark.privacy

NOW = 1_800_000_000.0
DAY, HOUR = 86_400.0, 3_600.0
RETAIN = {
    "retain_finished_days": 30,
    "retain_closed_tickets_days": 365,
    "retain_human_requests_days": 180,
    "retain_owed_days": 7,
    "retain_tokens_days": 30,
    "retain_counters_hours": 24,
}


def key(n: int) -> ConversationKey:
    return ConversationKey(1, n, n)


async def conversation(
    app: App, n: int, status: Status, age: float, owed: tuple[float, ...] = ()
) -> None:
    state = ConversationState(flow="f", status=status, locale="en", updated_at=NOW - age)
    items = [(item_id(1, i, commit_nonce(NOW - at)), b"sealed") for i, at in enumerate(owed)]
    assert await app.store.commit(key(n), 0, state.encode(), None, items)


async def ticket(app: App, n: int, *, closed_ago: float | None, request: int | None = None) -> None:
    tickets = SqlTickets(app.db)
    new = NewTicket(f"ref{n}", key(n), "en", f"t{n}", f"d{n}", NOW - 400 * DAY)
    number = await tickets.open(new, request_id=request)
    assert number is not None
    if closed_ago is not None:
        assert await tickets.set_status(number, TicketStatus.CLOSED, NOW - closed_ago)


async def human(app: App, n: int, age: float) -> int:
    request = HumanRequest(key(n), "f", "s", "en", f"reason {n}", NOW - age)
    return await app.records.record_human_request(request)


async def tokens(app: App) -> None:
    for name, expires in (("gone", NOW - 31 * DAY), ("kept", NOW - 29 * DAY)):
        await app.records.store_token(
            token_hash=name,
            purpose="password",
            key=key(1),
            customer_id=None,
            locale="en",
            expires_at=expires,
        )
    async with app.db.begin() as connection:
        for name, created, used in (
            ("used-long-ago", 60, 31),
            ("used-lately", 60, 29),
            ("unused", 1, None),
        ):
            await connection.execute(
                insert(InvitationRow).values(
                    token_hash=name,
                    flow="f",
                    locale="en",
                    created_at=NOW - created * DAY,
                    expires_at=NOW + DAY,
                    used_at=None if used is None else NOW - used * DAY,
                )
            )
        for name, expires in (("guest-gone", 31), ("guest-kept", 29)):
            await connection.execute(
                insert(GuestCodeRow).values(
                    code_hash=name,
                    session="s",
                    join_url="https://meet.example.com/x",
                    created_at=NOW - 40 * DAY,
                    expires_at=NOW - expires * DAY,
                )
            )


async def column(app: App, query: str) -> list[object]:
    async with app.db.connect() as connection:
        return sorted(row[0] for row in await connection.execute(text(query)))


async def walk_retention(app: App) -> None:
    await conversation(app, 1, Status.DONE, 31 * DAY)  # finished long ago: goes
    await conversation(app, 2, Status.DONE, 29 * DAY)  # finished lately: stays
    await conversation(app, 3, Status.ACTIVE, 40 * DAY)  # still running: the TTL's, not ours
    await conversation(app, 4, Status.ACTIVE, 0, owed=(8 * DAY, 1 * DAY))  # one item too old
    await ticket(app, 1, closed_ago=366 * DAY)
    await ticket(app, 2, closed_ago=364 * DAY)
    await ticket(app, 3, closed_ago=None)  # open: never purged
    await human(app, 1, 181 * DAY)
    await human(app, 2, 179 * DAY)
    await ticket(app, 4, closed_ago=None, request=await human(app, 3, 400 * DAY))  # context
    await tokens(app)
    limiter = SqlSendLimiter(app.db)
    await limiter.acquire("idle", now=NOW - 25 * HOUR, limit=5, window=600)
    await limiter.acquire("recent", now=NOW - 23 * HOUR, limit=5, window=600)

    await app.housekeeping()

    for n, alive in ((1, False), (2, True), (3, True), (4, True)):
        snapshot = await app.store.begin(key(n), None)
        assert (snapshot.data is not None) is alive, n
    owed = await app.store.owed(key(4))  # type: ignore[attr-defined]
    assert [name.split(".")[1] for name, _ in owed] == ["001"]
    assert await column(app, "SELECT ref FROM tickets") == ["ref2", "ref3", "ref4"]
    assert await column(app, "SELECT reason FROM human_requests") == ["reason 2", "reason 3"]
    assert await column(app, "SELECT token_hash FROM handoff_tokens") == ["kept"]
    assert await column(app, "SELECT token_hash FROM invitations") == ["unused", "used-lately"]
    assert await column(app, "SELECT code_hash FROM guest_codes") == ["guest-kept"]
    assert await column(app, "SELECT subject FROM send_limits") == ["recent"]
    async with app.db.connect() as connection:  # the closed ticket's messages went with it
        left = await connection.scalar(
            select(text("count(*)")).select_from(text("ticket_messages"))
        )
    assert left == 3


async def test_retention_on_redis_and_sqlite(tmp_path: Path, app_redis: str) -> None:
    app = await build_app(make_settings(tmp_path, redis_url=app_redis, **RETAIN), clock=lambda: NOW)
    try:
        await walk_retention(app)
    finally:
        await app.close()


@pytest.mark.cluster
@NEEDS_REDIS_SERVER
async def test_retention_on_a_redis_cluster(tmp_path: Path, redis_cluster: Cluster) -> None:
    """Finished conversations and old owed items are found on every primary (SCAN of each,
    the owed index of every bucket)."""
    redis_cluster.flush()
    settings = make_settings(tmp_path, redis_url=redis_cluster.url, **RETAIN)
    app = await build_app(settings, clock=lambda: NOW)
    try:
        await walk_retention(app)
    finally:
        await app.close()
        redis_cluster.flush()


async def test_retention_on_the_embedded_store_and_postgresql(
    tmp_path: Path, pg_database: str
) -> None:
    settings = make_settings(tmp_path, database_url=pg_database, **RETAIN)
    app = await build_app(settings, clock=lambda: NOW)
    try:
        await walk_retention(app)
    finally:
        await app.close()


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({"retain_owed_days": 0}, "RETAIN_OWED_DAYS must be at least 1, got 0"),
        ({"retain_counters_hours": "a day"}, "RETAIN_COUNTERS_HOURS must be a whole number"),
        ({"forget_tickets": "shred"}, "FORGET_TICKETS must be one of 'anonymise' or 'delete'"),
        ({"privacy_url": "example.com/p"}, "PRIVACY_URL must be an http:// or https:// address"),
    ],
)
def test_privacy_settings_are_checked_in_one_line(values: dict[str, object], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**values)
    assert str(caught.value).startswith(line)
    assert "\n" not in str(caught.value)


def test_an_owed_items_age_is_read_from_its_id() -> None:
    from dialogs.owed import committed_at

    assert committed_at(item_id(3, 1, commit_nonce(NOW))) == NOW
    assert committed_at(item_id(3, 1, "a1b2c3")) is None  # written before ids carried the time
    assert committed_at(item_id(3, 1)) is None
