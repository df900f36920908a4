"""Mails and SMS leave in the background, with a bounded retry schedule.

The update's reply never waits for SMTP or an SMS gateway: :meth:`Outbox.submit` starts a task
and returns. A failed send is retried after each delay of ``retry_delays``; when every try has
failed, the customer is told honestly (press "send again" later, or ask a person) through the
``notify`` callback the transport registers — a message is never dropped silently.

Messages in flight live in this process only (the plain code must not be written anywhere);
if the process dies before sending, the customer presses "send a new code".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from dialogs.errors import DeliveryError
from dialogs.events import ConversationKey
from dialogs.i18n import N_
from dialogs.ports import Delivery, Outgoing
from dialogs.replies import Reply, Text

log = logging.getLogger(__name__)

DELIVERY_FAILED = N_(
    "We could not send your code just now. Please press “Send a new code” in a minute, "
    "or send /human and a person will help you."
)
DEFAULT_RETRY_DELAYS = (2.0, 10.0, 30.0)
Notify = Callable[[ConversationKey, list[Reply], str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class Outbox:
    def __init__(
        self,
        delivery: Delivery,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        concurrency: int = 32,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.delivery = delivery
        self.retry_delays = tuple(retry_delays)
        self.notify: Notify | None = None
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[bool]] = set()

    def submit(self, message: Outgoing, key: ConversationKey | None) -> None:
        """Send ``message`` in the background; tell conversation ``key`` if it cannot be sent."""
        task = asyncio.get_running_loop().create_task(self._deliver(message, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: Outgoing, key: ConversationKey | None) -> bool:
        for attempt, delay in enumerate((0.0, *self.retry_delays), start=1):
            if delay:
                await self._sleep(delay)
            if await self._try(message, attempt):
                return True
        await self._give_up(message, key)
        return False

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

    async def _give_up(self, message: Outgoing, key: ConversationKey | None) -> None:
        tries = len(self.retry_delays) + 1
        if key is None or self.notify is None:
            log.error("%s not sent after %s tries; nobody to tell", message.channel, tries)
            return
        log.error("%s not sent after %s tries; telling %s", message.channel, tries, key)
        try:
            await self.notify(key, [Reply(Text(DELIVERY_FAILED))], message.locale)
        except Exception:
            log.exception("could not tell %s that a %s failed", key, message.channel)

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
