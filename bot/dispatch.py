"""The dispatcher: delivers what committed turns owe, then marks it done.

A turn's commit stores its replies and effects (:mod:`dialogs.owed`) with the new state, and
the webhook answers at once. The process that committed hands the same items to its
dispatcher (no read back); a conversation's items go out in order, two lanes each (``chat``:
the effects replies depend on, then the replies; ``slow``: mails, SMS, the agents' group), so a
paced group post or a retried mail never holds up a reply.

Durability comes from the store, not from this process:

* the committer holds the conversation's delivery lease (``CommitResult.LEAD``), renewed while
  it delivers; a commit behind undelivered items only queues them, and the holder's
  :meth:`~dialogs.ports.OwedStore.settle` hands them over, in order;
* done items are settled (deleted) in batches: when the conversation's lanes are empty and
  :data:`LINGER_SECONDS` passed with nothing new (a conversation that goes on settles several
  turns at once), and with every lease renewal. One settler task per process does this for
  every conversation that went quiet, in one call to the store (``settle_many``), so a
  conversation costs no timer of its own and its delivery task ends with its lanes;
* a process that dies leaves its leases to run out; every process claims ended leases every
  :data:`SWEEP_SECONDS` and delivers what is still owed. An item sent but not yet settled when
  its process died is sent again: the one way a customer sees a duplicate.

Failures: :class:`TryLater` (the network, Telegram's 5xx, an outage of the stores) is tried
again with backoff for as long as it takes, the lease renewed meanwhile; any other error is
tried :data:`ATTEMPTS` times, then logged (kind of item, conversation key: no personal data)
and dropped, so one broken item cannot stall a conversation for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.ops import metrics
from bot.outbox import IN_BACKGROUND
from dialogs import effects as fx
from dialogs.events import ConversationKey
from dialogs.owed import CHAT, SLOW, OwedCodec, OwedItem
from dialogs.ports import OwedStore
from dialogs.replies import Reply

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0
SWEEP_SECONDS = 2.0
LINGER_SECONDS = 0.05
ATTEMPTS = 5
BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


class TryLater(Exception):
    """A delivery failed for a passing reason (network, outage): try again later."""


class Deliverer(Protocol):
    """The channel side: how one item is delivered (bot/deliver.py)."""

    async def reply(self, item: OwedItem, replies: Sequence[Reply]) -> None:
        """Send ``replies`` to the item's conversation (raise TryLater to be retried)."""
        ...

    async def effect(self, item: OwedItem) -> list[Reply]:
        """Run the item's effect; return what to tell the customer about it."""
        ...


@dataclass(eq=False)
class _Conversation:
    key: ConversationKey
    leased: bool
    lanes: dict[str, deque[OwedItem]] = field(
        default_factory=lambda: {CHAT: deque(), SLOW: deque()}
    )
    known: set[str] = field(default_factory=set)
    done: list[str] = field(default_factory=list)
    notices: list[Reply] = field(default_factory=list)
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    """The delivery under way (None when the lanes are empty)."""
    since: float = 0.0  # when the oldest item still queued here was queued (loop time)
    quiet: float = 0.0  # when the lanes last ran empty (loop time): the settle is due later
    settling: bool = False  # a settle is on the wire
    led_again: bool = False  # meanwhile, a commit of this process took the lease again

    def add(self, items: Sequence[OwedItem]) -> int:
        """Queue the items not already known here: a commit's items may have come back from
        a settle before the commit's own answer was read (the calls take different lanes)."""
        known = self.known
        fresh = [i for i in items if i.id == "" or i.id not in known]
        for item in fresh:
            if item.id:
                self.known.add(item.id)
        if fresh:
            if self.empty():
                self.since = asyncio.get_running_loop().time()
            for item in fresh:
                self.lanes[item.lane].append(item)
            self.delivered.clear()
        return len(fresh)

    def empty(self) -> bool:
        return not self.lanes[CHAT] and not self.lanes[SLOW]


class Dispatcher:
    def __init__(
        self,
        store: OwedStore,
        codec: OwedCodec,
        deliverer: Deliverer,
        *,
        lease_seconds: float = LEASE_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self.store = store
        self.codec = codec
        self.deliverer = deliverer
        self.lease_seconds = lease_seconds
        self.sweep_seconds = sweep_seconds
        self.linger_seconds = linger_seconds
        self._active: dict[ConversationKey, _Conversation] = {}
        self._quiet: dict[ConversationKey, _Conversation] = {}  # delivered, settle not yet due
        self._woken = asyncio.Event()  # something went quiet: the settler has work
        self._settler: asyncio.Task[None] | None = None
        self._none_active = asyncio.Event()
        self._none_active.set()
        self._chores: asyncio.Task[None] | None = None
        self._closing = False

    # -- taking work ---------------------------------------------------------------------

    def submit(self, items: Sequence[OwedItem], *, lead: bool) -> None:
        """Deliver what a turn this process committed owes. ``lead`` False (the commit only
        queued them behind another delivery): whoever holds the lease takes them."""
        if not items:
            return
        key = items[0].key
        conversation = self._active.get(key)
        if conversation is not None and (conversation.leased or lead):
            if lead and conversation.settling:
                conversation.led_again = True  # the settle on the wire gave the lease up first
            conversation.leased = True
            self._queue(conversation, items)
        elif conversation is None and lead and not self._closing:
            self._start(key, items, leased=True)

    def send_now(self, key: ConversationKey, replies: Sequence[Reply], locale: str) -> None:
        """Replies that no commit stored (an update that could not be applied was answered
        with an apology, an invitation refused): best effort, in the chat's order."""
        items = [OwedItem("", key, locale, reply) for reply in replies]
        conversation = self._active.get(key)
        if conversation is not None:
            self._queue(conversation, items)
        elif items and not self._closing:
            self._start(key, items, leased=False)

    def _start(self, key: ConversationKey, items: Sequence[OwedItem], *, leased: bool) -> None:
        conversation = _Conversation(key, leased)
        self._active[key] = conversation
        self._none_active.clear()
        self._queue(conversation, items)

    def _queue(self, conversation: _Conversation, items: Sequence[OwedItem]) -> None:
        """Queue items, and start the conversation's delivery unless one is under way."""
        if conversation.add(items) and conversation.task is None:
            self._quiet.pop(conversation.key, None)
            conversation.task = asyncio.get_running_loop().create_task(self._run(conversation))

    async def delivered(self, key: ConversationKey) -> None:
        """Wait until nothing known here is left to deliver for ``key`` (tests, the web
        pages' signals, the terminal chat)."""
        conversation = self._active.get(key)
        if conversation is not None:
            await conversation.delivered.wait()

    async def settled(self) -> None:
        """Wait until every conversation active here has been delivered and settled."""
        await self._none_active.wait()  # (a cancelled wait leaves the deliveries running)

    # -- delivering ----------------------------------------------------------------------

    async def _run(self, conversation: _Conversation) -> None:
        """Deliver until the lanes are empty; then the conversation waits for the settler
        (leased), or is done with (best-effort replies only)."""
        IN_BACKGROUND.set(True)  # off the update's path (the benchmark counts it apart)
        try:
            await self._lanes(conversation)
        finally:
            conversation.task = None
            conversation.delivered.set()
            if not conversation.leased:
                self._forget(conversation)
            elif not self._closing and not conversation.settling:
                self._went_quiet(conversation)

    def _went_quiet(self, conversation: _Conversation) -> None:
        conversation.quiet = asyncio.get_running_loop().time()
        self._quiet.pop(conversation.key, None)  # to the end: the order they went quiet in
        self._quiet[conversation.key] = conversation
        self._woken.set()
        if self._settler is None:
            self._settler = asyncio.get_running_loop().create_task(self._settle_quiet())

    async def _settle_quiet(self) -> None:
        """The settler: conversations quiet for :attr:`linger_seconds` are settled together,
        in one call to the store; what the store still owes them comes back and is
        delivered."""
        IN_BACKGROUND.set(True)
        loop = asyncio.get_running_loop()
        quiet = self._quiet  # in the order they went quiet (each one re-inserted when it does)
        while True:
            if not quiet:
                self._woken.clear()
                await self._woken.wait()
            wait = next(iter(quiet.values())).quiet + self.linger_seconds - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            due_by = loop.time() - self.linger_seconds
            due = []
            for conversation in quiet.values():
                if conversation.quiet > due_by:
                    break
                due.append(conversation)
            for conversation in due:
                del quiet[conversation.key]
                conversation.settling = True
            await self._settle(due)

    async def _settle(self, due: list[_Conversation]) -> None:
        """Mark what was done, in one call to the store. A conversation owed nothing more has
        its lease ended and is done with here; else what the store still owes is delivered."""
        done = [(c.key, list(c.done)) for c in due]
        try:
            while True:
                try:
                    remaining = await self.store.settle_many(done)
                    break
                except Exception:  # an outage: keep the leases running out, try again
                    log.warning(
                        "could not settle %s conversation(s); trying again", len(due), exc_info=True
                    )
                    await asyncio.sleep(1.0)
        finally:
            for conversation in due:
                conversation.settling = False
        for conversation, (_, ids), owed in zip(due, done, remaining, strict=True):
            _drop_done(conversation, ids)
            self._settled(conversation, owed)

    def _settled(self, conversation: _Conversation, remaining: list[tuple[str, bytes]]) -> None:
        if remaining:
            known = conversation.known
            fresh = [self.codec.decode(blob) for id_, blob in remaining if id_ not in known]
            self._queue(conversation, fresh)
        elif conversation.led_again:
            pass  # a commit took the lease after the settle gave it up: still ours
        elif conversation.task is not None:
            # best-effort replies (send_now) came while the settle was on the wire: nothing
            # of the store's is owed now, so they are delivered unleased
            conversation.leased = False
            return
        else:
            self._forget(conversation)
            return
        conversation.led_again = False
        if conversation.task is None and not self._closing:
            self._went_quiet(conversation)  # (items known here but not delivered: none)

    def _forget(self, conversation: _Conversation) -> None:
        if self._active.get(conversation.key) is conversation:
            del self._active[conversation.key]
            if not self._active:
                self._none_active.set()

    async def _mark_done(self, conversation: _Conversation) -> list[tuple[str, bytes]]:
        """Settle what was delivered so far; what the store still owes comes back."""
        done = list(conversation.done)
        remaining = await self.store.settle(conversation.key, done)
        _drop_done(conversation, done)
        return remaining

    async def _lanes(self, conversation: _Conversation) -> None:
        """Both lanes until empty; the slow one in a task of its own only when it has work
        (most turns owe only replies)."""
        while not conversation.empty():
            if conversation.lanes[SLOW]:
                slow = asyncio.ensure_future(self._lane(conversation, SLOW))
                try:
                    await self._lane(conversation, CHAT)
                finally:
                    await asyncio.gather(slow, return_exceptions=True)
            else:
                await self._lane(conversation, CHAT)

    async def _lane(self, conversation: _Conversation, lane: str) -> None:
        queue = conversation.lanes[lane]
        while queue:
            item = queue[0]
            await self._deliver(conversation, item)
            queue.popleft()
            if item.id:
                conversation.done.append(item.id)
            if lane == CHAT and conversation.notices and (not queue or queue[0].turn != item.turn):
                notices, conversation.notices = conversation.notices, []
                await self._deliver(conversation, OwedItem("", item.key, item.locale, notices))

    async def _deliver(self, conversation: _Conversation, item: OwedItem) -> None:
        failures = 0
        for attempt in itertools.count():
            try:
                await self._once(conversation, item)
                metrics.delivery(self._channel_of(item), "sent")
                return
            except TryLater as exc:
                log.info("%s for %s: %s; trying again", _kind(item), item.key, exc)
            except Exception:
                failures += 1
                if failures >= ATTEMPTS:
                    log.exception("gave up a %s for %s", _kind(item), item.key)
                    metrics.delivery(self._channel_of(item), "failed")
                    return
                log.warning("a %s for %s failed", _kind(item), item.key, exc_info=True)
            metrics.delivery(self._channel_of(item), "retried")
            await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])

    def _channel_of(self, item: OwedItem) -> str:
        what = item.what
        if isinstance(what, fx.SendOutgoing):
            return what.message.channel  # email, sms
        if item.lane == SLOW:
            return "group"  # tickets and their posts to the agents' group
        return item.key.channel if isinstance(what, Reply | list) else "records"

    def _observe(self) -> None:
        """The queue as this process sees it, for ``onboard_owed_*`` (bot/ops/metrics.py)."""
        waiting = [c for c in self._active.values() if not c.empty()]
        depth = sum(len(c.lanes[CHAT]) + len(c.lanes[SLOW]) for c in waiting)
        now = asyncio.get_running_loop().time()
        metrics.owed_queue(depth, max((now - c.since for c in waiting), default=0.0))

    async def _once(self, conversation: _Conversation, item: OwedItem) -> None:
        what = item.what
        if isinstance(what, Reply):
            await self.deliverer.reply(item, [what])
        elif isinstance(what, list):  # notices gathered from the turn's chat-lane effects
            await self.deliverer.reply(item, what)
        else:
            notices = await self.deliverer.effect(item)
            if item.lane == CHAT:
                conversation.notices += notices  # after the turn's replies
            elif notices:
                await self._deliver(conversation, OwedItem("", item.key, item.locale, notices))

    # -- leases --------------------------------------------------------------------------

    def start(self) -> None:
        """Start claiming what dead processes left and renewing this process's leases."""
        if self._chores is None:
            self._chores = asyncio.get_running_loop().create_task(self._keep())

    async def _keep(self) -> None:
        IN_BACKGROUND.set(True)
        renew_every = self.lease_seconds / 3
        renewed = asyncio.get_running_loop().time()
        while True:
            self._observe()
            try:
                await self._claim()
                now = asyncio.get_running_loop().time()
                if now - renewed >= renew_every:
                    renewed = now
                    await self._renew()
            except Exception:  # an outage: leases run out, and we try again
                log.warning("could not claim or renew delivery leases", exc_info=True)
            await asyncio.sleep(self.sweep_seconds)

    async def _claim(self) -> None:
        for key in await self.store.claim():
            if key in self._active:
                continue  # ours, running late: still being delivered here
            items = [self.codec.decode(blob) for _, blob in await self.store.owed(key)]
            log.info("took over %s owed item(s) of %s", len(items), key)
            if items:
                self._start(key, items, leased=True)
            else:
                await self.store.settle(key, ())  # nothing left: end the lease

    async def _renew(self) -> None:
        leased = [c for c in self._active.values() if c.leased]
        await self.store.renew([c.key for c in leased])
        for conversation in leased:  # what was done so far, for a takeover to skip
            if conversation.done and not conversation.empty() and not conversation.settling:
                conversation.settling = True
                try:
                    await self._mark_done(conversation)
                finally:
                    conversation.settling = False
                if conversation.task is None and not self._closing:
                    self._went_quiet(conversation)  # its lanes ran empty meanwhile

    # -- stopping ------------------------------------------------------------------------

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop taking over; let deliveries under way finish for up to ``grace_seconds``;
        settle what was delivered; leave what is still owed to the next process (its lease
        ended at once)."""
        self._closing = True
        for chore in (self._chores, self._settler):
            if chore is not None:
                chore.cancel()
                await asyncio.gather(chore, return_exceptions=True)
        tasks = [c.task for c in self._active.values() if c.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)
        left = [c for c in self._active.values() if c.task is not None]
        for conversation in left:
            if conversation.task is not None:
                conversation.task.cancel()
        await asyncio.gather(*(c.task for c in left if c.task), return_exceptions=True)
        leased = [c for c in self._active.values() if c.leased]
        with contextlib.suppress(Exception):
            # a lease is given up by the settle when nothing more is owed
            remaining = await self.store.settle_many([(c.key, c.done) for c in leased])
            owed = [c.key for c, items in zip(leased, remaining, strict=True) if items]
            await self.store.renew(owed, end=True)
            if owed:
                log.info("stopping with %s conversation(s) still owed; left to the next", len(owed))


def _drop_done(conversation: _Conversation, ids: Sequence[str]) -> None:
    """``ids`` (the first of ``conversation.done``) were settled: gone from the store, so they
    may come again (a conversation started over)."""
    del conversation.done[: len(ids)]
    conversation.known.difference_update(ids)


def _kind(item: OwedItem) -> str:
    """What an item is, for the log (never its content)."""
    return "reply" if isinstance(item.what, Reply | list) else type(item.what).__name__
