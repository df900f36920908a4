"""Mails and SMS, with a bounded retry schedule.

What a turn owes is sent by :meth:`Courier.deliver`, awaited by the dispatcher's slow lane (the
owed item is durable until then; the reply never waits for it). A failed send is retried after
each delay of ``retry_delays``; when every try has failed, the customer is told honestly (press
"send again" later, or ask a person) — a message is never dropped silently.

:meth:`Courier.submit` sends in the background, for mails no turn owes: the CC copies of an
agent's answer (told to nobody when they fail; logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from dialogs.durations import minutes
from dialogs.errors import DeliveryError
from dialogs.events import ConversationKey
from dialogs.i18n import N_
from dialogs.ports import Clock, Delivery, Outgoing, SendLimiter
from dialogs.replies import Reply, Text, say
from dialogs.steps.code import TOO_MANY
from storage.limits import minutes_until

log = logging.getLogger(__name__)

DELIVERY_FAILED = N_(
    "We could not send your code just now. Please press “Send a new code” in a minute, "
    "or send /human and a person will help you."
)
DEFAULT_RETRY_DELAYS = (2.0, 10.0, 30.0)
Notify = Callable[[ConversationKey, list[Reply], str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]
IN_BACKGROUND: ContextVar[bool] = ContextVar("in_background", default=False)
"""True inside the courier's and the dispatcher's tasks: work no update waits for (the benchmark
and the Redis budget test count an update's round trips without it)."""


@dataclass(frozen=True, slots=True)
class Cap:
    """A slot to take in the shared per-address cap before sending (``subject`` is a keyed
    hash of the address): at most ``limit`` sends in ``window`` seconds."""

    subject: str
    limit: int
    window: float


class Courier:
    def __init__(
        self,
        delivery: Delivery,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        concurrency: int = 32,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        limiter: SendLimiter | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.limiter = limiter
        self.delivery = delivery
        self.retry_delays = tuple(retry_delays)
        self.notify = notify
        self.clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[bool]] = set()

    async def deliver(self, message: Outgoing, cap: Cap | None = None) -> Reply | None:
        """Send an owed ``message`` now (the dispatcher's lane waits): take its slot in the
        address's cap, then try it and retry after each of ``retry_delays``. Returns what to
        tell the customer when it was not sent (its cap was full, or every try failed), or
        None. Nothing is journaled: the owed item itself is durable until this returns."""
        if cap is not None and self.limiter is not None:
            wait = await self.limiter.acquire(
                cap.subject, now=self.clock(), limit=cap.limit, window=cap.window
            )  # an outage raises: the dispatcher tries again later
            if wait:
                log.info("%s not sent: the address reached its cap", message.channel)
                return Reply(say(TOO_MANY, minutes=minutes(minutes_until(wait))))
        if await self._try(message, 1):
            return None
        for attempt, delay in enumerate(self.retry_delays, start=2):
            await self._sleep(delay)
            if await self._try(message, attempt):
                return None
        log.error("%s not sent after %s tries", message.channel, len(self.retry_delays) + 1)
        return Reply(Text(DELIVERY_FAILED))

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
        IN_BACKGROUND.set(True)  # this task's own context: the update's is untouched
        try:
            notice = await self.deliver(message, cap)
        except Exception:  # no cap, no send (an unbounded sender is what the cap stops)
            log.exception("could not check the %s cap for %s", message.channel, key)
            notice = Reply(Text(DELIVERY_FAILED))
        if notice is not None:
            await self._tell(key, notice, message.channel, message.locale, what="not sent")
        return notice is None

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
