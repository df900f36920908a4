"""WhatsApp's webhook: the verification handshake and the signed notifications.

* ``GET``: Meta's handshake when the callback URL is set in the app dashboard —
  ``hub.mode=subscribe``, ``hub.verify_token`` (ours, WHATSAPP_VERIFY_TOKEN) and
  ``hub.challenge``, answered with the challenge; anything else 403.
* ``POST``: ``X-Hub-Signature-256: sha256=<hex>`` must be the HMAC-SHA256 of the raw body keyed
  with the app secret (compared in constant time); wrong or missing → 401 and nothing is read.
  Then each customer message is applied like a Telegram update (the engine's dedupe skips a
  message Meta delivers again), statuses are counted and a failed one logged (its error codes,
  never the number), and the answer is 200 — or 503 when Redis or the database is down, so
  Meta delivers the notification again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from dataclasses import replace
from typing import Any

from aiohttp import web

from bot.channels.whatsapp.errors import RE_ENGAGEMENT
from bot.channels.whatsapp.parse import (
    Inbound,
    Refusal,
    Status,
    conversation_key,
    parse_notification,
)
from bot.channels.whatsapp.window import WindowStore
from bot.dispatch import Dispatcher
from bot.ops import metrics
from dialogs.engine import Engine
from dialogs.errors import ConfigError, ConflictError
from dialogs.events import ConversationKey, Event, EventKind
from dialogs.i18n import N_, negotiate
from dialogs.ports import Clock
from dialogs.replies import Reply, Text
from storage.outage import is_outage

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
PUSH_WAIT_SECONDS = 5.0
LOCATION_REFUSED = N_(
    "Thank you, but we do not need your location. Please answer the question above with a "
    "message or the buttons."
)
UNSUPPORTED = N_(
    "Sorry, this kind of message cannot be used here. Please send text, a photo or a document."
)
GENERIC_ERROR = N_(
    "Sorry, something went wrong on our side. Please try again in a minute; "
    "your earlier answers are kept."
)
STATUSES = frozenset({"sent", "delivered", "read", "failed", "deleted"})
REFUSALS = {"location": LOCATION_REFUSED, "unsupported": UNSUPPORTED}


class Unavailable(Exception):
    """Redis or the database could not be reached: the notification was not applied."""


def signature_valid(body: bytes, header: str, app_secret: bytes) -> bool:
    expected = "sha256=" + hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode(), expected.encode())


class WhatsAppWebhook:
    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        windows: WindowStore,
        *,
        phone_number_id: str,
        app_secret: str,
        verify_token: str,
        clock: Clock = time.time,
    ) -> None:
        if not app_secret or not verify_token:
            raise ConfigError("WhatsApp needs WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN")
        self.clock = clock
        self.engine = engine
        self.dispatcher = dispatcher
        self.windows = windows
        self.phone_number_id = phone_number_id
        self._secret = app_secret.encode()
        self._verify = verify_token.encode()

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        given = query.get("hub.verify_token", "").encode()
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(given, self._verify):
            return web.Response(text=query.get("hub.challenge", ""))
        metrics.whatsapp_event("handshake_refused")
        return web.Response(status=403, text="forbidden")

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signature_valid(body, request.headers.get(SIGNATURE_HEADER, ""), self._secret):
            metrics.whatsapp_event("signature_refused")
            return web.Response(status=401, text="unauthorized")
        try:
            data = json.loads(body)
        except ValueError:
            return web.Response(status=400, text="bad json")
        try:
            await self.process(data)
        except Unavailable:
            return web.Response(status=503, text="try again", headers={"Retry-After": "1"})
        return web.Response(text="ok")

    async def process(self, data: Any) -> None:
        """Apply one notification; raises :class:`Unavailable` when it could not be."""
        notification = parse_notification(data, self.phone_number_id)
        for status in notification.statuses:
            _record(status)
            if RE_ENGAGEMENT in status.error_codes:
                await self._window_closed_after_all(status)
        for inbound in notification.inbound:
            await self._inbound(inbound)
        for refusal in notification.refusals:
            await self._opened(refusal.key, 0.0)
            locale = negotiate(refusal.language_code)
            self.dispatcher.send_now(refusal.key, [Reply(Text(REFUSALS[refusal.reason]))], locale)

    async def _inbound(self, inbound: Inbound) -> None:
        event = inbound.event
        await self._opened(event.key, inbound.timestamp)
        if event.kind is EventKind.TEXT and event.text.strip().isdigit():
            event = await self._numbered(event)
        await self._apply(event)

    async def _opened(self, key: ConversationKey, at: float) -> None:
        try:
            await self.windows.inbound(f"{self.phone_number_id}:{key.chat_id}", at or self.clock())
        except Exception as exc:
            if is_outage(exc):
                raise Unavailable(type(exc).__name__) from exc
            raise

    async def _numbered(self, event: Event) -> Event:
        """A number answering the numbered menu last shown: that choice, as if pressed."""
        menu = await self.windows.menu(f"{self.phone_number_id}:{event.key.chat_id}")
        number = int(event.text.strip())
        if menu and 1 <= number <= len(menu):
            return replace(event, kind=EventKind.BUTTON, text=menu[number - 1])
        return event

    async def _apply(self, event: Event) -> None:
        try:
            outcome = await self.engine.handle(event)
        except Exception as exc:
            if is_outage(exc) or isinstance(exc, ConflictError):
                log.warning("a WhatsApp message was not applied: %s", type(exc).__name__)
                raise Unavailable(type(exc).__name__) from exc
            log.exception("a WhatsApp message failed")
            locale = negotiate(event.language_code)
            self.dispatcher.send_now(event.key, [Reply(Text(GENERIC_ERROR))], locale)
            return
        if outcome.duplicate:
            metrics.whatsapp_event("duplicate")
            return
        if outcome.items:
            self.dispatcher.submit(outcome.items, lead=outcome.lead)
        elif outcome.replies:
            self.dispatcher.send_now(event.key, outcome.replies, outcome.locale)

    async def _window_closed_after_all(self, status: Status) -> None:
        """Meta accepted a message, then failed it for the window (131047): it goes again as
        the template, through the dispatcher like any reply (never dropped silently)."""
        sent = await self.windows.recall(status.message_id)
        if sent is None or not status.recipient.isdigit():
            log.warning("a message failed for the closed window and is no longer known")
            return
        await self.windows.shut(sent.conversation)
        key = conversation_key(self.phone_number_id, status.recipient)
        self.dispatcher.send_now(key, [Reply(Text(sent.text, literal=True))], sent.locale)

    async def push(self, event: Event) -> None:
        """Apply an event that did not come from WhatsApp (a web page's signal); returns once
        its chat message left (or after :data:`PUSH_WAIT_SECONDS`)."""
        outcome = await self.engine.handle(event)
        self.dispatcher.submit(outcome.items, lead=outcome.lead)
        try:
            await asyncio.wait_for(self.dispatcher.delivered(event.key), PUSH_WAIT_SECONDS)
        except TimeoutError:
            log.info("a WhatsApp chat message is still on its way")


def _record(status: Status) -> None:
    known = status.status in STATUSES
    metrics.whatsapp_event(f"status_{status.status}" if known else "status_other")
    if status.status == "failed":
        codes = ",".join(str(code) for code in status.error_codes) or "none"
        log.warning("a WhatsApp message failed to reach the customer (error %s)", codes)


def add_routes(app: web.Application, path: str, webhook: WhatsAppWebhook) -> None:
    app.router.add_get(path, webhook.verify)
    app.router.add_post(path, webhook.receive)


__all__ = ["Refusal", "WhatsAppWebhook", "add_routes", "signature_valid"]
