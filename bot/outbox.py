"""Mails and SMS leave in the background, with a bounded retry schedule.

The update's reply never waits for SMTP or an SMS gateway: :meth:`Outbox.submit` starts a task
and returns. A failed send is retried after each delay of ``retry_delays``; when every try has
failed, the customer is told honestly (press "send again" later, or ask a person) through the
``notify`` callback the transport registers — a message is never dropped silently.

Messages in flight live in this process only (the plain code is never written anywhere). With
a ``journal`` (SQL), a message not sent within ``journal_after`` (1 s) also leaves a row naming
only its conversation, channel, language and the time its retries end; the row goes when the
message is sent or given up. If the process dies first, :meth:`Outbox.recover` (run by every
process every minute) finds the overdue row and the customer is told as if every try had
failed. A fast send never touches the database; only a crash within that first second after
the commit can still go untold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from dialogs.durations import minutes
from dialogs.errors import DeliveryError
from dialogs.events import ConversationKey
from dialogs.i18n import N_
from dialogs.ports import Clock, Delivery, Outgoing, SendLimiter
from dialogs.replies import Reply, Text, say
from dialogs.steps.code import TOO_MANY
from storage.limits import minutes_until
from storage.outbox_journal import Interrupted

log = logging.getLogger(__name__)

DELIVERY_FAILED = N_(
    "We could not send your code just now. Please press “Send a new code” in a minute, "
    "or send /human and a person will help you."
)
DEFAULT_RETRY_DELAYS = (2.0, 10.0, 30.0)
Notify = Callable[[ConversationKey, list[Reply], str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]
IN_BACKGROUND: ContextVar[bool] = ContextVar("in_background", default=False)
"""True inside the outbox's delivery tasks: work no update waits for (the benchmark and the
Redis budget test count an update's round trips without it)."""
ATTEMPT_SECONDS = 60.0
"""Budget of one delivery attempt in the journal's ``settle_by`` (SMTP and gateway timeouts are
below it)."""


@dataclass(frozen=True, slots=True)
class Cap:
    """A slot to take in the shared per-address cap before sending (``subject`` is a keyed
    hash of the address): at most ``limit`` sends in ``window`` seconds."""

    subject: str
    limit: int
    window: float


class Journal(Protocol):
    async def add(
        self, key: ConversationKey, *, channel: str, locale: str, now: float, settle_by: float
    ) -> int: ...

    async def remove(self, entry: int) -> None: ...

    async def take_overdue(self, now: float) -> list[Interrupted]: ...


class Outbox:
    def __init__(
        self,
        delivery: Delivery,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        concurrency: int = 32,
        sleep: Sleep = asyncio.sleep,
        journal: Journal | None = None,
        clock: Clock = time.time,
        journal_after: float = 1.0,
        limiter: SendLimiter | None = None,
    ) -> None:
        self.limiter = limiter
        self.delivery = delivery
        self.retry_delays = tuple(retry_delays)
        self.notify: Notify | None = None
        self.journal = journal
        self.journal_after = journal_after
        self.clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[bool]] = set()

    def settle_seconds(self) -> float:
        """How long the tries of one message can take at most."""
        return sum(self.retry_delays) + (len(self.retry_delays) + 1) * ATTEMPT_SECONDS

    def submit(
        self, message: Outgoing, key: ConversationKey | None, cap: Cap | None = None
    ) -> None:
        """Send ``message`` in the background; tell conversation ``key`` if it cannot be sent
        (or if ``cap`` is full: the address had its share of messages)."""
        task = asyncio.get_running_loop().create_task(self._deliver(message, key, cap))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, message: Outgoing, key: ConversationKey | None, cap: Cap | None = None
    ) -> bool:
        """Take the slot in the address's cap (off the update's path: the reply does not wait
        for it); then the first try runs at once, and a message not sent within
        ``journal_after`` seconds (slow, failing, or still being retried) is journaled until
        it is settled. A fast success, the usual case, never touches the database."""
        IN_BACKGROUND.set(True)  # this task's own context: the update's is untouched
        if cap is not None and self.limiter is not None:
            try:
                wait = await self.limiter.acquire(
                    cap.subject, now=self.clock(), limit=cap.limit, window=cap.window
                )
            except Exception:  # no cap, no send (an unbounded sender is what the cap stops)
                log.exception("could not check the %s cap for %s", message.channel, key)
                what = "not sent: the address's cap could not be checked"
                await self._give_up(message.channel, message.locale, key, what=what)
                return False
            if wait:
                refused = Reply(say(TOO_MANY, minutes=minutes(minutes_until(wait))))
                what = "not sent: the address reached its cap"
                await self._tell(
                    key, refused, message.channel, message.locale, what=what, level=logging.INFO
                )
                return False
        first = asyncio.create_task(self._try(message, 1))
        try:
            done, _ = await asyncio.wait({first}, timeout=self.journal_after)
        except asyncio.CancelledError:
            first.cancel()
            raise
        if done and first.result():
            return True
        entry = await self._journal(message, key)
        try:
            sent = await first
            for attempt, delay in enumerate(self.retry_delays, start=2):
                if sent:
                    break
                await self._sleep(delay)
                sent = await self._try(message, attempt)
            if not sent:
                await self._give_up(message.channel, message.locale, key)
        finally:
            if entry is not None and not _cancelled():
                await self._unjournal(entry)
        return sent

    async def _journal(self, message: Outgoing, key: ConversationKey | None) -> int | None:
        if self.journal is None or key is None:
            return None
        now = self.clock()
        try:
            return await self.journal.add(
                key,
                channel=message.channel,
                locale=message.locale,
                now=now,
                settle_by=now + self.settle_seconds(),
            )
        except Exception:  # the send goes on; only a crash now would go untold
            log.exception("could not journal a %s for %s", message.channel, key)
            return None

    async def _unjournal(self, entry: int) -> None:
        if self.journal is None:
            return
        try:
            await self.journal.remove(entry)
        except Exception:  # the row expires and the customer is told once more: harmless
            log.exception("could not clear outbox journal entry %s", entry)

    async def recover(self) -> int:
        """Tell the customers whose message was in flight in a process that died (journal rows
        past their ``settle_by``). Returns how many were told; 0 until ``notify`` is wired."""
        if self.journal is None or self.notify is None:
            return 0
        lost = await self.journal.take_overdue(self.clock())
        for item in lost:
            log.warning("a %s to %s was interrupted; telling the customer", item.channel, item.key)
            await self._give_up(item.channel, item.locale, item.key)
        return len(lost)

    async def _try(self, message: Outgoing, attempt: int) -> bool:
        async with self._slots:
            try:
                await self.delivery.send(message)
            except DeliveryError as exc:
                log.warning("%s attempt %s failed: %s", exc.channel, attempt, exc.reason)
                return False
            except Exception:
                log.exception("%s attempt %s failed unexpectedly", message.channel, attempt)
                return False
        return True

    async def _tell(
        self,
        key: ConversationKey | None,
        reply: Reply,
        channel: str,
        locale: str,
        *,
        what: str,
        level: int = logging.ERROR,
    ) -> None:
        """Tell conversation ``key`` what became of its mail or SMS (``what`` is for the log)."""
        if key is None or self.notify is None:
            log.log(level, "%s %s; nobody to tell", channel, what)
            return
        log.log(level, "%s %s; telling %s", channel, what, key)
        try:
            await self.notify(key, [reply], locale)
        except Exception:
            log.exception("could not tell %s that a %s %s", key, channel, what)

    async def _give_up(
        self, channel: str, locale: str, key: ConversationKey | None, *, what: str = ""
    ) -> None:
        what = what or f"not sent after {len(self.retry_delays) + 1} tries"
        await self._tell(key, Reply(Text(DELIVERY_FAILED)), channel, locale, what=what)

    async def drain(self) -> None:
        """Wait until every message submitted so far is sent or given up (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Let messages in flight finish for up to ``grace_seconds``, then cancel them."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), grace_seconds)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _cancelled() -> bool:
    """True while the current task is being cancelled (the process is stopping): the journal
    row must then stay, so that another process tells the customer."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
