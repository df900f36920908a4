"""The ``onboard`` commands that serve customers: ``run`` (Telegram, by webhook or long
polling, or the terminal), ``web`` (the pages alone) and ``chat`` (the terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from aiohttp import web
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.app import App, TelegramSetup, TerminalSetup, build_app
from bot.channels.telegram.client import AiohttpPoster, BotApiClient
from bot.channels.telegram.connect import connect
from bot.channels.telegram.menu import publish_profile
from bot.channels.telegram.metered import metered
from bot.channels.telegram.ratelimit import outgoing_limiter
from bot.channels.telegram.transport import ALLOWED_UPDATES, TelegramTransport
from bot.channels.terminal import TERMINAL_KEY, TerminalChat
from bot.cli.actions import load_records
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from bot.web.links import add_link_routes
from bot.web.server import listen, serving, web_app_for
from bot.workers import WorkerSeat
from dialogs.errors import ConfigError
from dialogs.i18n import Catalogs

log = logging.getLogger(__name__)
SHUTDOWN_SECONDS = 3.0


async def chat(
    settings: Settings,
    *,
    flow: str | None,
    language: str | None,
    crm: Path | None,
    fresh: bool,
    pages_required: bool = False,
) -> int:
    """The terminal chat. ``pages_required`` (``onboard run``): a busy port stops it, since
    the links it hands out would not open; ``onboard chat`` says so in the chat and goes on."""
    app = await build_app(
        settings,
        delivery=DevelopmentDelivery(Catalogs(), echo=print),
        channel=TerminalSetup(language=language),
    )
    try:
        if crm is not None:
            await load_records(app, crm, quiet=True)
        if fresh:
            await app.store.delete(TERMINAL_KEY)
        terminal: TerminalChat = app.terminal
        pages = web_app_for(app, terminal.send)  # the page's "done" is printed in the chat
        add_link_routes(pages, app.records, app.catalogs, app.clock, terminal.send)
        async with serving(
            pages, settings.host, settings.port, required=pages_required, unavailable=print
        ):
            await terminal.run(flow=flow)
    finally:
        await app.close()
    return 0


async def run(
    settings: Settings, *, webhook: bool, demo_crm: Path, worker: WorkerSeat | None = None
) -> int:
    if settings.bot_token is None:
        print("No BOT_TOKEN set: starting the terminal chat on the demo CRM (Ctrl-D to quit).")
        return await chat(
            settings, flow=None, language=None, crm=demo_crm, fresh=False, pages_required=True
        )
    token = settings.bot_token.get_secret_value()
    base = settings.telegram_api_base.rstrip("/")
    bot = Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=metered((worker and worker.request) or HTTPXRequest(connection_pool_size=64)),
        get_updates_request=metered(HTTPXRequest(read_timeout=40)),
    )
    limiter = outgoing_limiter(settings, workers=worker.count if worker else 1)
    api = BotApiClient((worker and worker.api) or AiohttpPoster(base, token))
    app = await build_app(
        settings,
        delivery=worker.delivery if worker else None,
        migrate_schema=worker is None,  # the supervisor migrated before starting workers
        channel=TelegramSetup(bot, limiter, api),
    )
    try:
        await connect(bot, base)
        async with bot:
            if worker is None:  # the supervisor of several workers sets it once
                await publish_profile(bot, app.catalogs)
            await serve(app, app.transport, webhook=webhook, worker=worker)
    finally:
        await app.close()
        await api.close()
        if limiter is not None:
            await limiter.close()
    return 0


async def serve(
    app: App, transport: TelegramTransport, *, webhook: bool, worker: WorkerSeat | None = None
) -> None:
    """One process; as one of several ``worker``s (bot/workers.py) it shares HOST:PORT
    (SO_REUSEPORT), leaves ``setWebhook`` to the parent and housekeeping to worker 0."""
    settings = app.settings
    hook = None
    if webhook:
        if not settings.webhook_url or settings.webhook_secret is None:
            raise ConfigError("--webhook needs WEBHOOK_URL and WEBHOOK_SECRET")
        secret = settings.webhook_secret.get_secret_value()
        hook = (settings.webhook_path, transport.webhook_handler(secret))
    web_app = web_app_for(app, transport.push, hook)
    add_link_routes(web_app, app.records, app.catalogs, app.clock, transport.push)
    # SIGTERM: stop taking updates; turns under way get SHUTDOWN_SECONDS, then the dispatcher
    # its grace (bot.app.App.close): within the 10 s Docker and systemd give by default.
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    await listen(runner, settings.host, settings.port, reuse_port=worker is not None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    chores = asyncio.create_task(_housekeeping(app, stop, worker))
    try:
        if webhook and worker is not None:
            await stop.wait()
        elif webhook:
            assert settings.webhook_url is not None  # noqa: S101 - checked above
            await transport.bot.set_webhook(
                settings.webhook_url,
                secret_token=hook_secret(settings),
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("webhook set; serving on %s:%s", settings.host, settings.port)
            await stop.wait()
        else:
            log.info("polling for updates; pages on %s:%s", settings.host, settings.port)
            await transport.poll(stop)
    finally:
        chores.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await chores  # finish before the database closes under it
        await runner.cleanup()


async def _housekeeping(
    app: App,
    stop: asyncio.Event,
    worker: WorkerSeat | None = None,
    every_seconds: float = 3600,
) -> None:
    """Every hour, in one process: purge what expired (what dead processes left owed is
    taken over by every process's dispatcher, bot/dispatch.py)."""
    if worker is not None and worker.index != 0:
        return
    while True:
        try:
            await asyncio.wait_for(stop.wait(), every_seconds)
        except TimeoutError:
            try:
                await app.housekeeping()
            except Exception:  # an outage: next hour
                log.warning("housekeeping failed; trying again in an hour", exc_info=True)
        else:
            return  # stopping: no chores while the process shuts down


async def web_pages(settings: Settings) -> int:
    """``onboard web``: only the hand-off pages. The chat is told through the Bot API when
    BOT_TOKEN is set, else the bot's replies are printed here."""
    if settings.bot_token is None:
        app = await build_app(settings, channel=TerminalSetup())
        try:
            await _serve_pages(app, web_app_for(app, app.terminal.send))
        finally:
            await app.close()
        return 0
    base = settings.telegram_api_base.rstrip("/")
    token = settings.bot_token.get_secret_value()
    bot = Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=metered(HTTPXRequest()),
    )
    api = BotApiClient(AiohttpPoster(base, token))
    limiter = outgoing_limiter(settings)
    app = await build_app(settings, channel=TelegramSetup(bot, limiter, api))
    try:
        await connect(bot, base)
        async with bot:
            await _serve_pages(app, web_app_for(app, app.transport.push))
    finally:
        await app.close()
        await api.close()
        if limiter is not None:
            await limiter.close()
    return 0


async def _serve_pages(app: App, web_app: web.Application) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with serving(web_app, app.settings.host, app.settings.port):
        log.info("pages on %s:%s", app.settings.host, app.settings.port)
        await stop.wait()


def hook_secret(settings: Settings) -> str | None:
    return settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
