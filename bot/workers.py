"""``onboard run --webhook --workers N``: N worker processes behind one webhook URL.

The parent prepares once (migrations, the shared secret, ``setWebhook``), then spawns N
workers. Each worker is the ordinary webhook bot (:func:`bot.cli.serve.run`) listening on the
same HOST:PORT with ``SO_REUSEPORT``, so the kernel spreads Telegram's connections over them;
they share Redis (conversation state: every update is a compare-and-set transaction, so two
workers racing on one chat apply each update exactly once) and the SQL database.

Workers are spawned, not forked: each starts a fresh interpreter, so no event loop, socket or
connection pool is ever shared by accident. SIGINT/SIGTERM to the parent stop every worker;
a worker that dies is started again (at most ``MAX_RESTARTS`` times in a row within a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from bot import loop as event_loop
from bot.channels.telegram.connect import connect
from bot.config import Settings, secret_values
from bot.ops import metrics
from bot.ops.logs import configure_logging
from dialogs.errors import ConfigError
from dialogs.ports import Delivery

log = logging.getLogger(__name__)

MAX_RESTARTS = 5
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class WorkerSeat:
    """What makes a process one of several workers (passed to :func:`bot.cli.serve.run`).

    ``request``, ``api`` and ``delivery`` replace python-telegram-bot's HTTP request object,
    the JSON client's poster (bot/channels/telegram/client.py) and the mail/SMS delivery; only the
    benchmark sets them (in-process Bot API, codes kept)."""

    index: int
    request: Any = None
    api: Any = None
    count: int = 1  # how many workers share the bot (they divide its bot-wide send rate)
    delivery: Delivery | None = None


def _hooks(path: str | None) -> Any:
    """``module:attribute`` of an object with ``request()``, ``api()`` and
    ``delivery(settings)``."""
    if path is None:
        return None
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _worker_main(
    settings: Settings, index: int, hooks_path: str | None, demo_crm: Path, count: int = 1
) -> None:
    """Entry point of a spawned worker process."""
    from bot.cli import serve  # noqa: PLC0415 - in the child only

    configure_logging(
        settings.log_level,
        process=f"worker-{index}",
        fmt=settings.log_format,
        secrets=secret_values(settings),
    )
    hooks = _hooks(hooks_path)
    seat = WorkerSeat(
        index,
        request=hooks.request() if hooks else None,
        api=hooks.api() if hooks else None,
        delivery=hooks.delivery(settings) if hooks else None,
        count=count,
    )
    with contextlib.suppress(KeyboardInterrupt):
        event_loop.run(serve.run(settings, webhook=True, demo_crm=demo_crm, worker=seat))


async def _prepare(settings: Settings, hooks_path: str | None) -> None:
    """Once, before any worker: migrate, create the shared secret, register the webhook."""
    from telegram import Bot  # noqa: PLC0415
    from telegram.request import HTTPXRequest  # noqa: PLC0415

    from bot.app import build_app  # noqa: PLC0415
    from bot.channels.telegram.menu import publish_profile  # noqa: PLC0415
    from bot.channels.telegram.metered import metered  # noqa: PLC0415
    from bot.channels.telegram.transport import ALLOWED_UPDATES  # noqa: PLC0415

    if settings.bot_token is None or not settings.webhook_url or settings.webhook_secret is None:
        raise ConfigError("--workers needs BOT_TOKEN, WEBHOOK_URL and WEBHOOK_SECRET")
    if settings.redis_url is None:
        log.warning("several workers without REDIS_URL: conversation state is in SQL")
    app = await build_app(settings)
    await app.close()
    hooks = _hooks(hooks_path)
    base = settings.telegram_api_base.rstrip("/")
    bot = Bot(
        settings.bot_token.get_secret_value(),
        base_url=f"{base}/bot",
        request=metered(hooks.request() if hooks else HTTPXRequest()),
    )
    await connect(bot, base)
    async with bot:
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
        await publish_profile(bot, app.catalogs)


class Supervisor:
    """Starts the workers, restarts one that dies, stops them all on request."""

    def __init__(
        self, settings: Settings, count: int, demo_crm: Path, hooks: str | None = None
    ) -> None:
        if count < 1:
            raise ConfigError("--workers must be at least 1")
        self.settings = settings
        self.count = count
        self.demo_crm = demo_crm
        self.hooks = hooks
        self._context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self._restarts: list[float] = []
        # One scrape of any worker shows them all: prometheus-client's multiprocess mode.
        default = Path(tempfile.gettempdir()) / f"onboard-metrics-{os.getpid()}"
        self.metrics_dir = metrics.prepare_multiprocess_dir(default)

    def _spawn(self, index: int) -> BaseProcess:
        process = self._context.Process(
            target=_worker_main,
            args=(self.settings, index, self.hooks, self.demo_crm, self.count),
            name=f"onboard-worker-{index}",
            daemon=False,
        )
        with metrics.children_count_in(self.metrics_dir):
            process.start()
        return process

    def start(self) -> None:
        self.processes = [self._spawn(index) for index in range(self.count)]

    def check(self) -> bool:
        """Restart dead workers; False when they die too often to go on."""
        for index, process in enumerate(self.processes):
            if process.is_alive():
                continue
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < 60] + [now]
            if len(self._restarts) > MAX_RESTARTS:
                log.error("workers keep dying (exit code %s); giving up", process.exitcode)
                return False
            log.warning("worker %s exited with %s; restarting", index, process.exitcode)
            metrics.worker_exited(process.pid, self.metrics_dir)
            self.processes[index] = self._spawn(index)
        return True

    def stop(self) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()  # SIGTERM: each worker finishes its updates and exits
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
            metrics.worker_exited(process.pid, self.metrics_dir)


async def run_workers(
    settings: Settings,
    count: int,
    *,
    demo_crm: Path,
    hooks: str | None = None,
    stop: asyncio.Event | None = None,
    started: Callable[[Supervisor], None] | None = None,
) -> int:
    """Run ``count`` webhook workers until SIGINT/SIGTERM (or ``stop``). Returns the exit
    code. ``started`` sees the supervisor once the workers are launched (tests)."""
    await _prepare(settings, hooks)
    supervisor = Supervisor(settings, count, demo_crm, hooks)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    supervisor.start()
    if started is not None:
        started(supervisor)
    log.info("%s workers serving the webhook on %s:%s", count, settings.host, settings.port)
    healthy = True
    try:
        while healthy and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            healthy = supervisor.check()
    finally:
        await asyncio.to_thread(supervisor.stop)
    return 0 if healthy else 1
