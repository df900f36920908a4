"""Telegram's outgoing pacing kept in Redis, so every worker on every machine shares it.

With ``REDIS_URL`` set, a message asks one Lua script (one round trip) for its send time: the
script books the chat's slot (a private chat: GCRA, ``chat_rate`` a second with a burst of
``chat_burst``; a group: at most ``group_limit`` in any ``group_period`` + ``group_slack``
seconds) and, at or after it, a free slot in the bot's calendar (bookings kept evenly spaced,
``1 / bot_rate`` apart), both at that one time, and returns how long to sleep. The calendar
holds future bookings as they are, so a message that waits for its group a minute does not
hold back messages to other chats. A 429 records the hold in Redis (the chat's, or the bot's
for a call without a chat), so every process waits it out.

Time is Redis's own (``TIME`` inside the script): one clock for all machines.

Keys, all hash-tagged with the bot's id (``{bot_id}``: every script call stays in one slot of
a Redis Cluster, all of a bot's pacing on one primary)::

    ob:pace:{B}:bot        sorted set: the bot-wide calendar (booked send times)
    ob:pace:{B}:hold       the bot-wide hold after a 429 (a time)
    ob:pace:{B}:c:<chat>   hash: a private chat's GCRA (tat, last booked time)
    ob:pace:{B}:g:<chat>   list: a group's last ``group_limit`` booked times
    ob:pace:{B}:hold:<chat> the chat's hold after a 429 (a time)

Every key expires soon after its last booking matters no more. A pacing check that cannot
reach Redis raises :class:`PacingUnavailable` (a ``ConnectionError``: the dispatcher's
passing failures, tried again later), never sends unpaced.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from bot.channels.telegram.ratelimit import PacingUnavailable, TelegramLimits
from bot.ops import metrics
from storage.redis_cluster import open_client, router_for
from storage.redis_scripts import Script

# KEYS: bot calendar, bot hold, [chat bucket, chat hold]. ARGV: kind (n: no chat, p: private,
# g: group), the bot's spacing, then p: spacing, burst; g: limit, period (with slack).
# Returns the seconds to wait (a string: Lua numbers would be truncated to integers).
_RESERVE_LUA = """
local function fmt(x) return string.format('%.6f', x) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
local kind, gap = ARGV[1], tonumber(ARGV[2])
local at = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local tat, limit, period, spacing = 0, 0, 0, 0
if kind ~= 'n' then
  at = math.max(at, tonumber(redis.call('GET', KEYS[4]) or '0'))
end
if kind == 'p' then
  spacing = tonumber(ARGV[3])
  local burst = tonumber(ARGV[4])
  local state = redis.call('HMGET', KEYS[3], 'tat', 'last')
  tat = tonumber(state[1] or '0')
  if state[2] then at = math.max(at, tonumber(state[2]) + 0.001) end
  at = math.max(at, tat - (burst - 1) * spacing)
elseif kind == 'g' then
  limit, period = tonumber(ARGV[3]), tonumber(ARGV[4])
  local booked = redis.call('LRANGE', KEYS[3], 0, -1)
  local n = #booked
  if n > 0 then at = math.max(at, tonumber(booked[n]) + 0.001) end
  if n >= limit then at = math.max(at, tonumber(booked[n - limit + 1]) + period) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. fmt(now - gap))
local lo, offset, found = '(' .. fmt(at - gap), 0, false
while not found do
  local taken = redis.call('ZRANGEBYSCORE', KEYS[1], lo, '+inf',
    'WITHSCORES', 'LIMIT', offset, 128)
  for i = 2, #taken, 2 do
    local s = tonumber(taken[i])
    if s - at >= gap - 1e-6 then found = true break end
    at = math.max(at, s + gap)
  end
  if #taken < 256 then found = true end
  offset = offset + 128
end
redis.call('ZADD', KEYS[1], fmt(at), fmt(at))
local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIRE', KEYS[1], math.ceil((last + gap - now) * 1000) + 1000)
if kind == 'p' then
  tat = math.max(tat, at) + spacing
  redis.call('HSET', KEYS[3], 'tat', fmt(tat), 'last', fmt(at))
  redis.call('PEXPIRE', KEYS[3], math.ceil((tat - now) * 1000) + 1000)
elseif kind == 'g' then
  redis.call('RPUSH', KEYS[3], fmt(at))
  redis.call('LTRIM', KEYS[3], -limit, -1)
  redis.call('PEXPIRE', KEYS[3], math.ceil((at + period - now) * 1000) + 1000)
end
return fmt(at - now)
"""

# KEYS: the hold. ARGV: seconds. Nothing before now + seconds (a later hold is kept).
_HOLD_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
local seconds = tonumber(ARGV[1])
if now + seconds > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.6f', now + seconds),
    'PX', math.ceil(seconds * 1000) + 1000)
end
return 1
"""

_RESERVE = Script(_RESERVE_LUA)
_HOLD = Script(_HOLD_LUA)


class SharedPacer:
    """Telegram's limits for one bot in Redis (see the module docstring), the same
    ``wait`` / ``hold`` / ``close`` as :class:`bot.channels.telegram.ratelimit.OutgoingLimiter`."""

    def __init__(
        self,
        redis: Redis | RedisCluster,
        bot_id: int,
        limits: TelegramLimits | None = None,
        *,
        prefix: str = "ob:pace:",
    ) -> None:
        self.limits = limits or TelegramLimits()
        self._redis = redis
        self._router = router_for(redis, 1)  # a cluster: the lane of the bot's slot
        self._base = f"{prefix}{{{bot_id}}}:"
        self.waited = 0.0  # total seconds messages spent waiting (for logs and tests)
        self._wakes: dict[int | str | None, float] = {}  # chat: its last waiter's wake time

    @classmethod
    def from_url(
        cls,
        url: str,
        bot_id: int,
        limits: TelegramLimits | None = None,
        *,
        max_connections: int = 8,
    ) -> SharedPacer:
        """A pacer owning its client (closed by :meth:`close`)."""
        return cls(open_client(url, max_connections), bot_id, limits)

    async def reserve(self, chat_id: int | str | None) -> float:
        """Book the message's send time in the chat and in the bot's calendar; the wait."""
        limits = self.limits
        keys = [self._base + "bot", self._base + "hold"]
        args: list[str] = ["n", repr(1.0 / limits.bot_rate)]
        if chat_id is not None:
            group = isinstance(chat_id, str) or chat_id < 0  # groups, supergroups, channels
            keys += [self._base + ("g:" if group else "c:") + str(chat_id)]
            keys += [self._base + f"hold:{chat_id}"]
            if group:
                period = limits.group_period + limits.group_slack
                args = ["g", args[1], str(limits.group_limit), repr(period)]
            else:
                args = ["p", args[1], repr(1.0 / limits.chat_rate), str(limits.chat_burst)]
        reply = await self._script(_RESERVE, keys, *args)
        return max(0.0, float(reply))

    async def wait(self, chat_id: int | str | None) -> None:
        """Return when a message to ``chat_id`` may be sent: at its booked time, and never
        before a message to the same chat booked earlier in this process. (The booked times
        are in order, but the waits are measured from each reply's arrival: a message booked
        at once would overtake one booked a millisecond ahead that the host woke late.)"""
        delay = await self.reserve(chat_id)
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = now + delay
        ahead = self._wakes.get(chat_id)
        if ahead is not None and ahead >= due:
            due = ahead + 1e-6  # distinct times: the loop's timers wake in order of time
        if due <= now:
            return
        self._wakes[chat_id] = due
        self.waited += due - now
        metrics.bot_api_wait("pacing", due - now)
        woken = loop.create_future()  # woken at ``due`` itself, not ``due`` - now from later
        timer = loop.call_at(due, woken.set_result, None)
        try:
            await woken
        finally:
            timer.cancel()
            if self._wakes.get(chat_id) == due:  # the chat's last waiter: forget the chat
                del self._wakes[chat_id]

    async def hold(self, chat_id: int | str | None, seconds: float) -> None:
        """Telegram said 429: every process holds the chat (or the bot) for ``seconds``."""
        metrics.bot_api_wait("retry_after", seconds)
        key = self._base + ("hold" if chat_id is None else f"hold:{chat_id}")
        await self._script(_HOLD, [key], repr(float(seconds)))

    async def _script(self, script: Script, keys: list[str], *args: str) -> Any:
        try:
            return await self._router.script(script, keys, *args)
        except (RedisError, OSError) as exc:
            raise PacingUnavailable(f"Telegram's shared pacing: {type(exc).__name__}") from exc

    async def close(self) -> None:
        await self._router.close()
        await self._redis.aclose()
