"""What turns owe, kept by the commit and settled by the dispatcher: the OwedStore contract on
every backend (Redis, SQLite, PostgreSQL; see the ``store`` fixture)."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from dialogs.events import ConversationKey
from dialogs.ports import CommitResult, OwedStore, StateStore

from .conftest import KEY

OTHER = ConversationKey(bot_id=1, chat_id=-100, user_id=43)


def owed(store: StateStore) -> OwedStore:
    return cast(OwedStore, store)


async def test_a_commit_keeps_what_the_turn_owes_and_takes_the_lease(store: StateStore) -> None:
    items = [("000000000001.000", b"reply"), ("000000000001.001", b"mail")]
    assert await store.commit(KEY, 0, b"state", 1, items) is CommitResult.LEAD
    assert await owed(store).owed(KEY) == items


async def test_a_conflict_keeps_nothing(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1, [("000000000001.000", b"a")])
    assert await store.commit(KEY, 0, b"b", 2, [("000000000001.000", b"b")]) is (
        CommitResult.CONFLICT
    )
    assert await owed(store).owed(KEY) == [("000000000001.000", b"a")]


async def test_a_commit_behind_undelivered_items_only_queues_them(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1, [("000000000001.000", b"first")])
    assert await store.commit(KEY, 1, b"b", 2, [("000000000002.000", b"second")]) is (
        CommitResult.QUEUED
    )
    # The holder settles the first turn and is handed the second, in order.
    assert await owed(store).settle(KEY, ["000000000001.000"]) == [("000000000002.000", b"second")]
    assert await owed(store).settle(KEY, ["000000000002.000"]) == []
    # Nothing owed any more: the next commit leads again.
    assert await store.commit(KEY, 2, b"c", 3, [("000000000003.000", b"third")]) is (
        CommitResult.LEAD
    )


async def test_many_conversations_are_settled_at_once(store: StateStore) -> None:
    """settle_many is settle for each (what each still owes, in the batch's order), in as
    few calls as the backend allows (on a cluster the conversations span buckets)."""
    keys = [ConversationKey(bot_id=1, chat_id=-100, user_id=50 + n) for n in range(7)]
    for key in keys:
        assert await store.commit(key, 0, b"a", 1, [("000000000001.000", b"first")])
    queued = keys[1::2]  # a second turn committed behind the first: still owed after it
    for key in queued:
        assert await store.commit(key, 1, b"b", 2, [("000000000002.000", b"second")]) is (
            CommitResult.QUEUED
        )
    batch = [(key, ["000000000001.000"]) for key in keys]
    assert await owed(store).settle_many(batch) == [
        [("000000000002.000", b"second")] if key in queued else [] for key in keys
    ]
    for key in keys:  # a lease ended where nothing was owed, was renewed where something was
        assert await store.commit(key, 2 if key in queued else 1, b"c", 3, [("x", b"x")]) is (
            CommitResult.QUEUED if key in queued else CommitResult.LEAD
        )
    assert await owed(store).settle_many([]) == []


async def test_a_commit_that_owes_nothing_takes_no_lease(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1) is CommitResult.LEAD
    assert await owed(store).owed(KEY) == []
    assert await owed(store).claim() == []


# Leases of half a second: a claim on a loaded machine (or of a cluster's 256 bucket indexes,
# each primary's first connection included) takes well under it.
@pytest.mark.store_options(lease_seconds=0.5)
async def test_an_ended_lease_is_claimed_once(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1, [("000000000001.000", b"x")])
    assert await store.commit(OTHER, 0, b"a", 1, [("000000000001.000", b"y")])
    assert await owed(store).claim() == []  # both leases still run
    await asyncio.sleep(0.8)  # the holder died: nobody renewed
    claimed = await owed(store).claim()
    assert sorted(claimed, key=str) == sorted([KEY, OTHER], key=str)
    assert await owed(store).claim() == []  # taken: a second process does not get them
    assert await owed(store).owed(KEY) == [("000000000001.000", b"x")]


@pytest.mark.store_options(lease_seconds=0.5)
async def test_renewed_leases_are_not_claimed_and_ended_ones_are(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1, [("000000000001.000", b"x")])
    for _ in range(3):
        await asyncio.sleep(0.25)
        await owed(store).renew([KEY])
        assert await owed(store).claim() == []
    await owed(store).renew([KEY], end=True)  # a process stopping hands it over at once
    assert await owed(store).claim() == [KEY]


async def test_settling_twice_is_harmless(store: StateStore) -> None:
    assert await store.commit(KEY, 0, b"a", 1, [("000000000001.000", b"x")])
    assert await owed(store).settle(KEY, ["000000000001.000"]) == []
    assert await owed(store).settle(KEY, ["000000000001.000"]) == []
    assert await owed(store).owed(KEY) == []
