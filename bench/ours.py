"""The project's own hot path: webhook JSON → TelegramTransport → engine → Redis → replies
through the bot's JSON client (answered in-process)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from telegram import Bot

from bench.botapi import InProcessBotApi
from bench.customers import PinBox, Stats, drive
from bench.measure import RoundTrips, bytes_per_key_group, commands_total
from bench.place import Place
from bot.app import TelegramSetup, build_app
from bot.channels.telegram.client import BotApiClient
from dialogs.events import ConversationKey


@contextlib.contextmanager
def _profiled(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from pyinstrument import Profiler  # noqa: PLC0415 - optional, bench only

    profiler = Profiler(async_mode="disabled", interval=0.001)
    profiler.start()
    try:
        yield profiler
    finally:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


PACED_LOAD = 0.5
"""The paced run offers this share of the saturation run's updates/s."""


async def run(
    where: Place, customers: int, in_flight: int, *, profile: bool = False, paced: bool = True
) -> Stats:
    """The saturation run (every customer sends its next update on the last answer), then
    the paced run: as many customers in flight, at half the measured rate (latency without
    the queue a closed loop at full speed builds: at 200 in flight and N updates/s an update
    waits 200/N s on average, Little's law). ``paced`` False: the saturation run only."""
    pins = PinBox()
    settings = where.settings()
    api = InProcessBotApi()
    bot = Bot(settings.bot_token.get_secret_value(), request=api)  # type: ignore[union-attr]
    channel = TelegramSetup(bot, api=BotApiClient(api))
    app = await build_app(settings, delivery=pins, channel=channel)
    transport = app.transport

    async def deliver(update: dict[str, Any]) -> list[dict[str, Any]]:
        """One update, answered: the webhook's work (up to the commit), then the
        dispatcher's (the replies sent) — a customer's wait for the answer."""
        await transport.process_json(update)
        user = update.get("message", update.get("callback_query", {}))["from"]["id"]
        await app.dispatcher.delivered(ConversationKey(transport.bot_id, user, user))
        return api.take(user)

    redis = app.store._redis  # type: ignore[attr-defined] # the store's own client; bench only
    try:
        async with bot:
            await drive(min(customers, in_flight), in_flight, deliver, pins.wait)
            await app.dispatcher.settled()  # no lease left to a flushed store
            await redis.flushdb()
            pins.forget()
            with RoundTrips().installed() as trips, _profiled(profile):
                commands = await commands_total(redis)
                trips.reset()
                stats = await drive(customers, in_flight, deliver, pins.wait)
                stats.extra["round_trips"] = trips.exchanges
                stats.extra["background_round_trips"] = trips.background_calls
            stats.extra["socket_writes"] = trips.count
            stats.extra["commands"] = await commands_total(redis) - commands - 1
            stats.extra["bytes_per_conversation"] = await bytes_per_key_group(redis, "ob:*")
            stats.extra["sent_messages"] = api.calls["sendMessage"]
            if paced and not profile:
                await redis.flushdb()
                pins.forget()
                pace = PACED_LOAD * stats.updates / stats.elapsed
                paced = await drive(customers, in_flight, deliver, pins.wait, rate=pace)
                stats.extra["paced_rate"] = paced.updates / paced.elapsed
                stats.extra["paced_p50_ms"] = paced.percentile(0.5) * 1e3
                stats.extra["paced_p99_ms"] = paced.percentile(0.99) * 1e3
                stats.failures += paced.failures
            return stats
    finally:
        await app.close()
