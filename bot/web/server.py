"""The web side: the Telegram webhook and the hand-off pages, one aiohttp application.

Pages (``bot/web/pages``): ``/password/{token}`` sets the password, ``/pin/{token}`` the service
PIN, ``POST /handoff/redeem`` lets a company portal redeem a token (when
``PORTAL_HANDOFF_SECRET`` is set). Every response carries the security headers below: no
inline script (CSP), nothing cached, and no Referer, so a token in a URL never
leaks to another site. Only Telegram Web may frame them (it shows Mini Apps in an iframe).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from bot.app import App
from bot.ops.health import add_ops_routes
from bot.web.pages import password, pin, portal
from bot.web.pages.context import (
    ConversationSteps,
    Handler,
    HandoffBackend,
    Notifier,
    Pages,
    TokenLookup,
)
from bot.web.pages.guard import Csrf, PageLimits, RateLimiter, Throttle
from bot.web.pages.miniapp import MiniAppAuth
from bot.web.passwords import COMMON_PASSWORDS_FILE, CommonPasswords, SecretHasher
from dialogs.errors import OnboardError
from dialogs.i18n import Catalogs
from dialogs.ports import Clock
from storage.accounts import SqlAccounts

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors https://web.telegram.org"  # Telegram Web shows Mini Apps in a frame
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # 404s and 405s get the headers too
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


async def health(request: web.Request) -> web.Response:
    """Liveness: the process answers (readiness is ``/readyz``, bot/ops/health.py)."""
    return web.json_response({"ok": True})


async def favicon(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "favicon.svg", headers={"Content-Type": "image/svg+xml"})


async def common_passwords(request: web.Request) -> web.FileResponse:
    return web.FileResponse(COMMON_PASSWORDS_FILE, headers={"Content-Type": "text/plain"})


def create_web_app(
    tokens: TokenLookup,
    catalogs: Catalogs,
    clock: Clock,
    webhook: tuple[str, Handler] | None = None,
    *,
    backend: HandoffBackend | None = None,
    common: CommonPasswords | None = None,
    portal_secret: str | None = None,
) -> web.Application:
    """The application. Without ``backend`` the pages only display (no form is accepted)."""
    csrf = backend.csrf if backend is not None else Csrf(secrets.token_bytes(32))
    pages = Pages(tokens, catalogs, clock, common or CommonPasswords(), csrf, backend)
    app = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
    app.router.add_get("/healthz", health)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/static/common-passwords.txt", common_passwords)
    app.router.add_static("/static/", STATIC_DIR)
    app.router.add_get("/password/{token}", password.show(pages))
    if backend is not None:
        app.router.add_post("/password/{token}", password.submit(pages, backend))
        app.router.add_get("/pin/{token}", pin.show(pages, backend))
        app.router.add_post("/pin/{token}", pin.choose(pages, backend))
        app.router.add_post("/pin/{token}/pdf", pin.pdf(pages, backend))
        app.router.add_post("/pin/{token}/confirm", pin.confirm(pages, backend))
        if portal_secret:
            app.router.add_post(portal.REDEEM_PATH, portal.redeem(pages, backend, portal_secret))
    if webhook is not None:
        path, handler = webhook
        app.router.add_post(path, handler)
    return app


def web_app_for(
    app: App,
    notify: Notifier,
    webhook: tuple[str, Handler] | None = None,
    *,
    limits: PageLimits | None = None,
    limiter: RateLimiter | None = None,
) -> web.Application:
    """The web application wired to a built :class:`App`; ``notify`` tells the chat
    (``TelegramTransport.push``, or the terminal chat's printer). The pages' throttles count
    in the limiter that caps code sends (Redis when ``REDIS_URL`` is set, else SQL)."""
    from storage.limits import SqlSendLimiter  # noqa: PLC0415 - the default limiter

    secret = app.engine.services.secret
    settings = app.settings
    backend = HandoffBackend(
        accounts=SqlAccounts(app.db),
        steps=ConversationSteps(app.store, app.flows),
        notify=notify,
        csrf=Csrf(secret, settings.trusted_proxies),
        throttle=Throttle(
            limiter or app.effects.courier.limiter or SqlSendLimiter(app.db),
            secret,
            limits or PageLimits(),
            settings.trusted_proxies,
        ),
        hasher=SecretHasher(),
        miniapp=MiniAppAuth(
            settings.bot_token.get_secret_value() if settings.bot_token else None,
            settings.miniapp_max_age_seconds,
        ),
    )
    portal_secret = (
        settings.portal_handoff_secret.get_secret_value()
        if settings.portal_handoff_secret
        else None
    )
    web_app = create_web_app(
        app.records,
        app.catalogs,
        app.clock,
        webhook,
        backend=backend,
        portal_secret=portal_secret,
    )
    add_ops_routes(web_app, app.db, settings.redis_url)  # /readyz, /metrics
    return web_app


async def listen(runner: web.AppRunner, host: str, port: int, *, reuse_port: bool = False) -> None:
    """Start serving ``runner`` on ``host:port``; a port that cannot be bound is an
    :class:`OnboardError` that says which and what to do."""
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port).start()
    except OSError as exc:
        raise OnboardError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): "
            "stop what uses it, or set PORT (and HOST) to a free address"
        ) from None


@contextlib.asynccontextmanager
async def serving(
    web_app: web.Application,
    host: str,
    port: int,
    *,
    required: bool = True,
    unavailable: Callable[[str], None] | None = None,
) -> AsyncIterator[web.AppRunner | None]:
    """Serve ``web_app`` on ``host:port`` for the duration of the block. With
    ``required=False`` (``onboard chat``) a busy port is told to ``unavailable`` instead."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        try:
            await listen(runner, host, port)
        except OnboardError as exc:
            if required:
                raise
            (unavailable or log.warning)(f"The web pages are not served: {exc}.")
            yield None
            return
        yield runner
    finally:
        await runner.cleanup()
