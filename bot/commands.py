"""What each ``onboard`` command does (argument parsing lives in :mod:`bot.cli`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from aiohttp import web
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.app import App, build_app
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from bot.locales import compile_catalogs, extract_template, update_catalogs
from bot.telegram.render import TelegramRenderer
from bot.telegram.transport import ALLOWED_UPDATES, TelegramTransport
from bot.terminal import TERMINAL_KEY, TerminalChat
from bot.web import create_web_app
from dialogs.errors import ConfigError, FlowLoadError
from dialogs.flow import FlowRegistry
from dialogs.i18n import Catalogs
from storage.crm_import import load_crm

log = logging.getLogger(__name__)


async def chat(
    settings: Settings, *, flow: str | None, language: str | None, crm: Path | None, fresh: bool
) -> int:
    app = await build_app(settings, delivery=DevelopmentDelivery(Catalogs(), echo=print))
    try:
        if crm is not None:
            await _load(app, crm, quiet=True)
        if fresh:
            await app.store.delete(TERMINAL_KEY)
        terminal = TerminalChat(app.engine, app.effects, app.catalogs, language=language)
        await terminal.run(flow=flow)
    finally:
        await app.close()
    return 0


async def crm_load(settings: Settings, path: Path) -> int:
    app = await build_app(settings)
    try:
        return await _load(app, path, quiet=False)
    finally:
        await app.close()


async def _load(app: App, path: Path, *, quiet: bool) -> int:
    report = await load_crm(app.db, path)
    for error in report.errors:
        print(f"{path}:{error.line}: {error.reason}")
    if not quiet or report.errors:
        print(f"{path}: {report.loaded} loaded, {len(report.errors)} rejected")
    return 1 if report.errors else 0


def flows(action: str) -> int:
    catalogs = Catalogs()
    try:
        registry = FlowRegistry.from_directory(known_messages=catalogs.template_ids)
    except FlowLoadError as exc:
        print(f"error: {exc}")
        return 1
    for flow in registry:
        if action == "list":
            print(f"{flow.id}\t{flow.language}\t{len(flow.steps)} steps\t{flow.title}")
    if action == "check":
        print(f"{len(registry)} flows OK")
    return 0


def locales(action: str) -> int:
    if action == "extract":
        print(f"wrote {extract_template()}")
    elif action == "update":
        for path in update_catalogs():
            print(f"updated {path}")
    else:
        for path in compile_catalogs():
            print(f"compiled {path}")
    return 0


async def run(settings: Settings, *, webhook: bool, demo_crm: Path) -> int:
    if settings.bot_token is None:
        print("No BOT_TOKEN set: starting the terminal chat on the demo CRM (Ctrl-D to quit).")
        return await chat(settings, flow=None, language=None, crm=demo_crm, fresh=False)
    app = await build_app(settings)
    token = settings.bot_token.get_secret_value()
    base = settings.telegram_api_base.rstrip("/")
    bot = Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connection_pool_size=64),
        get_updates_request=HTTPXRequest(read_timeout=40),
    )
    transport = TelegramTransport(bot, app.engine, TelegramRenderer(app.catalogs), app.effects)
    try:
        async with bot:
            await serve(app, transport, webhook=webhook)
    finally:
        await app.close()
    return 0


async def serve(app: App, transport: TelegramTransport, *, webhook: bool) -> None:
    settings = app.settings
    hook = None
    if webhook:
        if not settings.webhook_url or settings.webhook_secret is None:
            raise ConfigError("--webhook needs WEBHOOK_URL and WEBHOOK_SECRET")
        secret = settings.webhook_secret.get_secret_value()
        hook = (settings.webhook_path, transport.webhook_handler(secret))
    web_app = create_web_app(app.records, app.catalogs, app.clock, hook)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    chores = asyncio.create_task(_housekeeping(app, stop))
    try:
        if webhook:
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
        await runner.cleanup()


async def _housekeeping(app: App, stop: asyncio.Event, every_seconds: float = 3600) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
        await app.housekeeping()


def hook_secret(settings: Settings) -> str | None:
    return settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
