"""Outgoing rate limits of the Bot API, applied before each message is sent.

Telegram asks bots to stay at about one message per second in a chat, 20 per minute in a group
and 30 per second overall, and answers 429 with ``retry_after`` beyond that. A message first
books a slot in its chat (a private chat: a GCRA bucket, one per second with a short burst, so
a turn's two or three replies leave together; a group: a sliding window, at most 20 in any
minute), sleeps until then, and then books a slot in the bot-wide bucket (evenly spaced, 30 a
second). Slots are booked synchronously in call order, so a chat's messages keep their order
and nothing is dropped: a limited message waits. A 429 holds the bucket that was hit (the
chat's, or the bot's) past ``retry_after``, so everything queued behind it waits too.

Without Redis the limits are per process: with N webhook workers each takes 1/N of the
bot-wide rate. With ``REDIS_URL`` set they are kept in Redis instead, shared by every worker on
every machine (bot/channels/telegram/shared_pacing.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.config import Settings
from bot.ops import metrics
from dialogs.ports import Clock

Sleep = Callable[[float], Awaitable[None]]

MESSAGE_METHODS = frozenset(
    {
        "sendmessage",
        "copymessage",
        "forwardmessage",
        "sendphoto",
        "senddocument",
        "sendmediagroup",
        "sendvideo",
        "sendaudio",
        "sendvoice",
        "sendsticker",
        "sendanimation",
        "createforumtopic",
    }
)
"""Calls that post something into a chat (what Telegram's limits count)."""


class PacingUnavailable(ConnectionError):
    """The shared pacing (Redis) did not answer: the message is not sent now (a passing
    failure, an outage: the dispatcher tries it again later), never sent unpaced."""


class Pacer(Protocol):
    """What the sender needs of the limits: in process (:class:`OutgoingLimiter`) or shared
    in Redis (:class:`bot.channels.telegram.shared_pacing.SharedPacer`)."""

    async def wait(self, chat_id: int | str | None) -> None:
        """Return when a message to ``chat_id`` may be sent."""
        ...

    async def hold(self, chat_id: int | str | None, seconds: float) -> None:
        """Telegram said 429: nothing to the chat (or at all, for ``None``) for ``seconds``."""
        ...

    async def close(self) -> None: ...


class Bucket(Protocol):
    def earliest(self, now: float) -> float:
        """The earliest time, not before ``now``, at which the bucket has room."""
        ...

    def charge(self, at: float) -> None:
        """Book the slot at ``at`` (a time :meth:`earliest` returned)."""
        ...

    def pause_until(self, until: float) -> None:
        """Nothing before ``until`` (a 429's ``retry_after``)."""
        ...

    def idle(self, now: float) -> bool:
        """Full again: forgetting the bucket changes nothing."""
        ...


@dataclass(slots=True)
class Gcra:
    """``rate`` messages per second with bursts of ``burst`` (the generic cell rate
    algorithm: one number per bucket, the theoretical arrival time of the next message)."""

    rate: float
    burst: int = 1
    tat: float = 0.0

    def earliest(self, now: float) -> float:
        return max(now, self.tat - (self.burst - 1) / self.rate)

    def charge(self, at: float) -> None:
        self.tat = max(self.tat, at) + 1.0 / self.rate

    def pause_until(self, until: float) -> None:
        self.tat = max(self.tat, until + (self.burst - 1) / self.rate)

    def idle(self, now: float) -> bool:
        return self.tat <= now


@dataclass(slots=True)
class Window:
    """At most ``limit`` messages in any ``period`` seconds (the booked times are kept).
    ``slack`` widens the window a little: Telegram counts arrivals, and a request may arrive
    later than its booked time while the next one is on time."""

    limit: int
    period: float
    slack: float = 0.0
    booked: deque[float] = field(default_factory=deque)
    paused: float = 0.0

    def earliest(self, now: float) -> float:
        at = max(now, self.paused, self.booked[-1] if self.booked else now)
        if len(self.booked) >= self.limit:
            at = max(at, self.booked[-self.limit] + self.period + self.slack)
        return at

    def charge(self, at: float) -> None:
        self.booked.append(at)
        while len(self.booked) > self.limit:
            self.booked.popleft()

    def pause_until(self, until: float) -> None:
        self.paused = max(self.paused, until)

    def idle(self, now: float) -> bool:
        end = self.booked[-1] + self.period + self.slack if self.booked else now
        return self.paused <= now and end <= now


@dataclass(frozen=True, slots=True)
class TelegramLimits:
    chat_rate: float = 1.0  # per private chat, messages/s
    chat_burst: int = 3  # a turn's two or three replies go out together
    group_limit: int = 20  # per group or channel ...
    group_period: float = 60.0  # ... in any this many seconds
    group_slack: float = 1.0  # for arrival jitter
    bot_rate: float = 30.0  # all chats together, messages/s, evenly spaced

    def per_worker(self, workers: int) -> TelegramLimits:
        """The share of one of ``workers`` processes (chats stick to no worker, so each
        process keeps the per-chat limits and divides the bot-wide rate)."""
        return replace(self, bot_rate=self.bot_rate / max(1, workers))


class OutgoingLimiter:
    def __init__(
        self,
        limits: TelegramLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        idle_after: float = 600.0,
    ) -> None:
        self.limits = limits or TelegramLimits()
        self.clock = clock
        self.sleep = sleep
        self.bot = Gcra(self.limits.bot_rate)
        self.chats: dict[int | str, Bucket] = {}
        self.idle_after = idle_after
        self._next_sweep = 0.0
        self.waited = 0.0  # total seconds messages spent waiting (for logs and tests)

    def _chat(self, chat_id: int | str) -> Bucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            limits = self.limits
            group = isinstance(chat_id, str) or chat_id < 0  # groups, supergroups, channels
            bucket = (
                Window(limits.group_limit, limits.group_period, limits.group_slack)
                if group
                else Gcra(limits.chat_rate, limits.chat_burst)
            )
            self.chats[chat_id] = bucket
        return bucket

    def reserve(self, chat_id: int | str | None) -> float:
        """Book the chat's earliest slot (the bot-wide one for ``None``); return the wait."""
        now = self.clock()
        self._sweep(now)
        bucket = self.bot if chat_id is None else self._chat(chat_id)
        at = bucket.earliest(now)
        bucket.charge(at)
        return at - now

    async def wait(self, chat_id: int | str | None) -> None:
        """Return when a message to ``chat_id`` may be sent."""
        if chat_id is not None:
            await self._sleep(self.reserve(chat_id))
        await self._sleep(self.reserve(None))

    async def _sleep(self, delay: float) -> None:
        if delay > 0:
            self.waited += delay
            metrics.bot_api_wait("pacing", delay)
            await self.sleep(delay)

    def retry_after(self, chat_id: int | str | None, seconds: float) -> None:
        """Telegram said 429: hold the chat's bucket (or the bot's) for ``seconds``."""
        until = self.clock() + seconds
        metrics.bot_api_wait("retry_after", seconds)
        bucket = self.bot if chat_id is None else self._chat(chat_id)
        bucket.pause_until(until)

    async def hold(self, chat_id: int | str | None, seconds: float) -> None:
        self.retry_after(chat_id, seconds)

    async def close(self) -> None:
        """Nothing of its own to close."""

    def _sweep(self, now: float) -> None:
        """Forget chats whose bucket is full again."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.idle_after
        for chat in [chat for chat, bucket in self.chats.items() if bucket.idle(now)]:
            del self.chats[chat]


def limits_of(settings: Settings) -> TelegramLimits:
    """Telegram's limits as the settings tell them (TELEGRAM_CHAT_RATE and the like)."""
    return TelegramLimits(
        chat_rate=settings.telegram_chat_rate,
        group_limit=settings.telegram_group_limit,
        group_period=settings.telegram_group_window_seconds,
        bot_rate=settings.telegram_bot_rate,
    )


def outgoing_limiter(settings: Settings, *, workers: int = 1) -> Pacer | None:
    """The pacing of one process of ``workers``: shared in Redis when REDIS_URL is set (all
    workers of all machines, so ``workers`` does not matter), else this process's share; None
    when the settings switch it off."""
    if not settings.telegram_rate_limits:
        return None
    if settings.redis_url:
        from bot.channels.telegram.shared_pacing import SharedPacer  # noqa: PLC0415 - only with Redis

        token = settings.bot_token.get_secret_value() if settings.bot_token else "0:"
        return SharedPacer.from_url(
            settings.redis_url, int(token.split(":", 1)[0]), limits_of(settings)
        )
    return OutgoingLimiter(limits_of(settings).per_worker(workers))
