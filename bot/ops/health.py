"""``/healthz``, ``/readyz`` and ``/metrics`` on the server of ``onboard run`` and ``onboard web``.

* ``/healthz`` — liveness: the process answers (``{"ok": true}``). Nothing else is checked, so
  an outage of Redis or the database never makes an orchestrator kill healthy processes.
* ``/readyz`` — readiness: Redis answers ``PING`` (when ``REDIS_URL`` is set), the database
  answers and its migrations are at every head. 200 ``{"ok": true}``, else 503 with
  ``{"ok": false, "problems": [...]}`` saying what is wrong. Every worker checks the shared
  Redis and database, so the worker SO_REUSEPORT picks answers for all of them.
* ``/metrics`` — Prometheus text: all workers of the machine (bot/ops/metrics.py).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.ops import metrics
from storage.db import schema_problem

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0
READY: web.AppKey[Readiness] = web.AppKey("readiness")


class Readiness:
    def __init__(self, db: Any, redis_url: str | None) -> None:
        self.db = db
        self.redis_url = redis_url
        self._redis: Any = None

    async def problems(self) -> list[str]:
        checks = [self._database()]
        if self.redis_url:
            checks.append(self._redis_problem(self.redis_url))
        found = await asyncio.gather(*checks)
        return [problem for problem in found if problem]

    async def _database(self) -> str | None:
        try:
            return await asyncio.wait_for(schema_problem(self.db), CHECK_TIMEOUT)
        except TimeoutError:
            return f"database did not answer within {CHECK_TIMEOUT:.0f} s"

    async def _redis_problem(self, url: str) -> str | None:
        if self._redis is None:
            from storage.redis_cluster import open_client  # noqa: PLC0415 - only when configured

            self._redis = open_client(
                url, 1, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT
            )
        try:
            await asyncio.wait_for(self._redis.ping(), CHECK_TIMEOUT)
        except TimeoutError:
            return f"redis did not answer within {CHECK_TIMEOUT:.0f} s"
        except Exception as error:  # any client error is "not ready", never a crash
            return f"redis unreachable ({type(error).__name__})"
        return None

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


async def readyz(request: web.Request) -> web.Response:
    problems = await request.app[READY].problems()
    if problems:
        log.warning("not ready: %s", "; ".join(problems))
        return web.json_response({"ok": False, "problems": problems}, status=503)
    return web.json_response({"ok": True})


async def metrics_view(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(metrics.exposition)  # reads every worker's files
    response = web.Response(body=body)
    response.headers["Content-Type"] = metrics.CONTENT_TYPE
    return response


def add_ops_routes(web_app: web.Application, db: Any, redis_url: str | None) -> None:
    readiness = Readiness(db, redis_url)
    web_app[READY] = readiness

    async def close(_app: web.Application) -> None:
        await readiness.close()

    web_app.on_cleanup.append(close)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics_view)


async def probe(settings: Settings, *, ready: bool = False) -> int:
    """``onboard health``: the Docker HEALTHCHECK (the slim image has no curl)."""
    import aiohttp  # noqa: PLC0415

    path = "/readyz" if ready else "/healthz"
    url = f"http://127.0.0.1:{settings.port}{path}"
    try:
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as answer:
            body = await answer.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        print(f"onboard: {url} does not answer ({type(exc).__name__})", file=sys.stderr)
        return 1
    if answer.status != 200:
        print(f"onboard: {url} answered {answer.status}: {body.strip()}", file=sys.stderr)
        return 1
    return 0
