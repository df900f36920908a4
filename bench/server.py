"""``python -m bench.server``: ``onboard run --webhook --workers N`` as the bench runs it —
the real supervisor and workers, with the Bot API answered in-process (no Telegram) and the
one-time codes kept in Redis for the simulated customers instead of mailed."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from redis.asyncio import Redis

from bench.botapi import InProcessBotApi
from bench.place import Place
from bot.config import Settings
from bot.workers import run_workers
from dialogs.ports import Outgoing

PIN_PREFIX = "bench:pin:"


class RedisPins:
    """A ``Delivery`` that leaves the code where the benchmark's customers can read it."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._redis: Redis | None = None

    async def send(self, message: Outgoing) -> None:
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url)
        await self._redis.set(PIN_PREFIX + message.to, str(message.params["code"]), px=600_000)


class Hooks:
    @staticmethod
    def request() -> InProcessBotApi:
        return InProcessBotApi(keep=False)

    @staticmethod
    def api() -> InProcessBotApi:
        return InProcessBotApi(keep=False)

    @staticmethod
    def delivery(settings: Settings) -> RedisPins:
        assert settings.redis_url is not None
        return RedisPins(settings.redis_url)


HOOKS = Hooks()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    place = Place(args.redis_url, args.database_url, "")
    settings = place.settings(port=args.port)
    return asyncio.run(
        run_workers(
            settings, args.workers, demo_crm=Path("/nonexistent"), hooks="bench.server:HOOKS"
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
