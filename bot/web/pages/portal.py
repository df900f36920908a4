"""The redeem endpoint for companies with their own portal (hand-off ``mode: portal``).

The bot sends the customer to ``PORTAL_HANDOFF_URL?token=…``; the portal's server then calls::

    POST /handoff/redeem
    Authorization: Bearer <PORTAL_HANDOFF_SECRET>
    Content-Type: application/json

    {"token": "<the token from the query string>"}

and gets ``200 {"customer": {"id", "name", "tax_scheme", "tax_id"} | null, "purpose",
"locale"}`` once; the token is burnt and the chat is told (``handoff:<purpose>``).
A wrong or missing secret gets 401, a used, expired or unknown token 410, a malformed body
400, too many calls from one address 429. The secret is compared in constant time.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from bot.web.pages.context import Handler, HandoffBackend, Pages
from dialogs.steps.handoff import PORTAL_PREFIX, token_hash
from storage.accounts import RedeemedCustomer

log = logging.getLogger(__name__)

REDEEM_PATH = "/handoff/redeem"


def _authorised(request: web.Request, secret: bytes) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return hmac.compare_digest(given.strip().encode(), secret) and scheme.lower() == "bearer"


def _error(status: int, code: str) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response({"error": code}, status=status, headers=headers)


def _body(redeemed: RedeemedCustomer) -> dict[str, Any]:
    token = redeemed.token
    customer = None
    if token.customer_id is not None:
        customer = {
            "id": token.customer_id,
            "name": redeemed.name,
            "tax_scheme": redeemed.tax_scheme,
            "tax_id": redeemed.tax_id,
        }
    purpose = token.purpose.removeprefix(PORTAL_PREFIX)
    return {"customer": customer, "purpose": purpose, "locale": token.locale}


async def _token_from(request: web.Request) -> str | None:
    try:
        data = await request.json()
    except ValueError:
        return None
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= 200 else None


def redeem(pages: Pages, backend: HandoffBackend, secret: str) -> Handler:
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        if await backend.throttle.wait(request, None, pages.clock()):
            return _error(429, "too_many_requests")
        if not _authorised(request, expected):
            return _error(401, "unauthorized")
        raw = await _token_from(request)
        if raw is None:
            return _error(400, "bad_request")
        hashed = token_hash(raw)
        info = await pages.tokens.get_token(hashed)
        if info is None or not info.purpose.startswith(PORTAL_PREFIX):
            return _error(410, "invalid_token")
        redeemed = await backend.accounts.redeem(hashed, info.purpose, pages.clock())
        if redeemed is None:
            return _error(410, "invalid_token")
        try:
            await backend.signal(redeemed.token, info.purpose.removeprefix(PORTAL_PREFIX))
        except Exception:
            log.exception("could not tell conversation %s about the redeemed token", info.key)
        return web.json_response(_body(redeemed))

    return handle
