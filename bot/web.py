"""The web side: the Telegram webhook and the hand-off pages, one aiohttp application.

The password page itself comes with the password issue; until then the hand-off link opens a
page that checks the one-time token and says so honestly.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from dialogs.i18n import N_, Catalogs, negotiate

PAGE_TITLE = N_("Create your password")
PAGE_NOT_READY = N_(
    "Your link is valid. Setting the password on this page is not available yet; "
    "please return to the chat, where we will tell you as soon as it is."
)
LINK_INVALID = N_(
    "This link has expired or has already been used. Go back to the chat and send /start "
    "to get a new link."
)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TokenInfo(Protocol):
    locale: str
    expires_at: float
    used_at: float | None


class TokenLookup(Protocol):
    async def get_token(self, token_hash: str) -> Any: ...


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    return response


def _page(title: str, body: str, locale: str) -> str:
    return (
        f'<!doctype html><html lang="{html.escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></main></body></html>"
    )


def hand_off_page(tokens: TokenLookup, catalogs: Catalogs, clock: Callable[[], float]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        info = await tokens.get_token(hashlib.sha256(token.encode()).hexdigest())
        valid = info is not None and info.used_at is None and info.expires_at > clock()
        locale = (
            info.locale if info is not None else negotiate(request.headers.get("Accept-Language"))
        )
        title = catalogs.gettext(PAGE_TITLE, locale)
        body = catalogs.gettext(PAGE_NOT_READY if valid else LINK_INVALID, locale)
        return web.Response(
            text=_page(title, body, locale),
            content_type="text/html",
            status=200 if valid else 410,
        )

    return handle


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def create_web_app(
    tokens: TokenLookup,
    catalogs: Catalogs,
    clock: Callable[[], float],
    webhook: tuple[str, Handler] | None = None,
) -> web.Application:
    app = web.Application(middlewares=[security_headers], client_max_size=1024 * 1024)
    app.router.add_get("/healthz", health)
    app.router.add_get("/password/{token}", hand_off_page(tokens, catalogs, clock))
    if webhook is not None:
        path, handler = webhook
        app.router.add_post(path, handler)
    return app
