"""What each ``onboard`` command does (argument parsing lives in :mod:`bot.cli.main`)."""

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
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from bot.maint.locales import compile_catalogs, extract_template, update_catalogs
from bot.web.links import add_link_routes
from bot.web.server import listen, serving, web_app_for
from bot.workers import WorkerSeat
from dialogs.errors import ConfigError, FlowLoadError, OnboardError
from dialogs.flow import FlowRegistry
from dialogs.i18n import Catalogs
from dialogs.steps.privacy import missing_notice
from storage.crm_import import load_crm
from storage.crm_sync import sync as sync_crm

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
            await _load(app, crm, quiet=True)
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


async def crm_load(
    settings: Settings, path: Path, *, mapping: Path | None = None, dry_run: bool = False
) -> int:
    app = await build_app(settings)
    try:
        return await _load(app, path, quiet=False, mapping=mapping, dry_run=dry_run)
    finally:
        await app.close()


async def _load(
    app: App, path: Path, *, quiet: bool, mapping: Path | None = None, dry_run: bool = False
) -> int:
    report = await load_crm(app.db, path, mapping=mapping, dry_run=dry_run)
    for error in report.errors:
        print(f"{path}:{error.line}: {error.reason}")
    if dry_run:
        print(
            f"{path}: {report.loaded} would load, {len(report.errors)} rejected"
            " (dry run: nothing was changed)"
        )
    elif not quiet or report.errors:
        print(f"{path}: {report.loaded} loaded, {len(report.errors)} rejected")
    return 1 if report.errors else 0


async def crm_sync(settings: Settings, *, full: bool = False) -> int:
    """Pull the CRM's changes into the local copy (storage/crm_sync.py)."""
    if not settings.crm_lookup_url:
        raise ConfigError("crm sync needs CRM_LOOKUP_URL (and CRM_LOOKUP_TOKEN): the CRM's API")
    app = await build_app(settings)
    try:
        assert app.crm is not None  # noqa: S101 - built whenever CRM_LOOKUP_URL is set
        report = await sync_crm(app.db, app.crm, full=full)
    finally:
        await app.close()
    for error in report.errors:
        print(f"changes:{error.line}: {error.reason}")
    print(
        f"crm sync: {report.upserted} updated, {report.deactivated} deactivated, "
        f"{len(report.errors)} rejected ({report.pages} pages; cursor {report.cursor})"
    )
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
        unnoticed = [(flow, missing_notice(flow)) for flow in registry]
        for flow, steps in unnoticed:
            for step in steps:
                print(
                    f"error: {flow.source}, step {step!r}: collects personal data before any "
                    "privacy_notice step"
                )
        if any(steps for _, steps in unnoticed):
            return 1
        print(f"{len(registry)} flows OK")
    return 0


def locales(action: str, *, drop_obsolete: bool = False, directory: Path | None = None) -> int:
    if action == "check":
        return locales_check(directory)
    if action == "extract":
        print(f"wrote {extract_template()}")
    elif action == "update":
        for path in update_catalogs(drop_obsolete=drop_obsolete):
            print(f"updated {path}")
    else:
        for path in compile_catalogs():
            print(f"compiled {path}")
    return 0


def locales_check(directory: Path | None) -> int:
    try:
        from bot.maint.catalog_check import check_catalogs  # noqa: PLC0415 - maintainers' tool
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"onboard locales check needs the maintainers' tools ({exc.name} is missing): "
            "pip install -e '.[maint]', or make test, which installs them"
        ) from None

    problems = check_catalogs(locales=directory)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems" if problems else "catalogs OK")
    return 1 if problems else 0


def flows_draw(flow_id: str, fmt: str, output: Path | None) -> int:
    from bot.maint.flow_graph import flow_graph  # noqa: PLC0415 - maintainers' tool
    from bot.maint.mermaid import to_mermaid  # noqa: PLC0415
    from bot.maint.svg import to_svg  # noqa: PLC0415

    flow = FlowRegistry.from_directory().get(flow_id)
    if flow is None:
        known = ", ".join(flow.id for flow in FlowRegistry.from_directory())
        raise ConfigError(f"unknown flow {flow_id!r}: use one of {known}")
    graph = flow_graph(flow)
    text = to_svg(graph) if fmt == "svg" else to_mermaid(graph)
    if output is None:
        print(text, end="")
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OnboardError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"wrote {output}")
    return 0


def flows_docs() -> int:
    from bot.maint.flow_docs import write_docs  # noqa: PLC0415 - maintainers' tool

    root = Path(__file__).resolve().parents[2]
    for path in write_docs(root, FlowRegistry.from_directory()):
        print(f"wrote {path}")
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
