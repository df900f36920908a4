"""The raw floor: per update one GET and one SET of a small JSON through ``redis.asyncio`` and
nothing else (no parsing, no engine, no Bot API) — what Redis alone costs."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from bench.customers import FIRST_USER_ID, Stats, drive
from bench.measure import RoundTrips, bytes_per_key_group


async def run(redis_url: str, customers: int, in_flight: int) -> Stats:
    redis: Redis = Redis.from_url(redis_url, max_connections=in_flight + 8)

    async def deliver(update: dict[str, Any]) -> list[dict[str, Any]]:
        sender = (update.get("message") or update["callback_query"])["from"]["id"]
        key = f"floor:{sender}"
        raw = await redis.get(key)
        state = json.loads(raw) if raw else {"step": 0}
        state["step"] += 1
        state["last"] = update["update_id"]
        await redis.set(key, json.dumps(state), px=86_400_000)
        return _CANNED[state["step"]]

    try:
        await redis.ping()
        with RoundTrips().installed() as trips:
            stats = await drive(customers, in_flight, deliver, _pin)
        stats.extra["round_trips"] = trips.exchanges
        stats.extra["socket_writes"] = trips.count
        stats.extra["bytes_per_conversation"] = await bytes_per_key_group(redis, "floor:*", 1)
        await redis.delete(*[f"floor:{FIRST_USER_ID + i}" for i in range(customers)])
        return stats
    finally:
        await redis.aclose()


async def _pin(_address: str) -> str:
    return "000000"


_TEXT = {"text": "."}
_BUTTONS = {
    "text": ".",
    "reply_markup": {
        "inline_keyboard": [
            [{"text": "a", "callback_data": "s:code:resend"}],
            [{"text": "b", "callback_data": "x"}],
        ]
    },
}
_LINK = {"text": ".", "reply_markup": {"inline_keyboard": [[{"text": "a", "url": "https://x"}]]}}
# The replies the walk expects at each of its six steps, so the same customers can drive it.
_CANNED: dict[int, list[dict[str, Any]]] = {
    1: [_TEXT, _TEXT, _TEXT],  # intro, privacy notice, the EIK question
    2: [_TEXT],
    3: [_TEXT],
    4: [_BUTTONS],
    5: [_TEXT],
    6: [_LINK],
}
