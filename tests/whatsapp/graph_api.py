"""A WhatsApp Cloud API (Meta's Graph API) on loopback, for tests, and a customer who writes.

Shapes follow Meta's published reference (stored copies read while writing this, 2026-12-03):

* Messages webhook, text and interactive replies (``button_reply`` / ``list_reply``):
  https://developers.secure.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/interactive
* Webhook errors payload (130429 "Rate limit hit"):
  https://developers.secure.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/errors
* Statuses (``sent`` / ``delivered`` / ``read`` / ``failed`` with ``errors[]``, e.g. 131047):
  https://developer.enablex.io/docs/references/apis/whatsapp-business-api/content/api-responses/
  and https://docs.chatsyncs.com/meta-api/webhooks/status-webhooks
* CTA URL button messages (``interactive.type = cta_url``, ``display_text`` ≤ 20, body ≤ 1024):
  https://developers.secure.facebook.com/docs/whatsapp/cloud-api/messages/interactive-cta-url-messages
  and https://whatsapp-docs.kap.so/documentation/whatsapp/messages/interactive-cta-url-messages
* Media: ``GET /{media-id}`` → ``url``, ``mime_type``, ``sha256``, ``file_size`` (URL valid five
  minutes, fetched with the bearer token):
  https://nermalcat69.github.io/meta-developer-docs/documentation/business-messaging/whatsapp/reference/media/media-download-api.html
  and https://support.chatarchitect.com/books/meta-whatsapp/page/whatsapp-cloud-api-media-download-api-developer-documentation
* Signature ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body, app secret>`` and the
  ``hub.mode`` / ``hub.verify_token`` / ``hub.challenge`` handshake:
  https://whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/webhooks/start and
  https://hookdeck.com/webhooks/platforms/guide-to-whatsapp-webhooks-features-and-best-practices
* Error 131047 (re-engagement: more than 24 hours since the customer last wrote):
  https://dualhook.com/docs/whatsapp-error-131047 ; error 131056 (pair rate limit, "(Business
  Account, Consumer Account) pair rate limit hit", about one message every 6 seconds to one
  number with bursts): https://learn.turn.io/l/en/article/ik2v3vgiif-why-am-i-seeing-error-code-131056
  and https://learn.doubletick.io/understanding-whatsapp-error-code-131056-pair-rate-limit
* Error answers: ``{"error": {"message": "(#131056) …", "type": "OAuthException", "code":
  131056, "error_data": {"messaging_product": "whatsapp", "details": "…"}, "fbtrace_id": "…"}}``.

The server checks what it is sent against those limits (a message Meta would refuse is
refused here too, code 100), keeps the 24-hour window of each customer itself (free-form
messages outside it get 131047, templates pass), records every accepted message, serves and
accepts media, and can be told to answer the next sends to a customer with an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
VERSION = "v21.0"
WINDOW_SECONDS = 24 * 3600
ERRORS = {
    100: (400, "(#100) Invalid parameter"),
    131047: (400, "(#131047) Re-engagement message"),
    131056: (400, "(#131056) (Business Account, Consumer Account) pair rate limit hit"),
    130429: (400, "(#130429) Rate limit hit"),
    190: (401, "Error validating access token"),
}


@dataclass
class Sent:
    to: str
    message: JSON
    wamid: str
    at: float

    @property
    def type(self) -> str:
        return str(self.message["type"])

    @property
    def text(self) -> str:
        """What the customer reads first: the body, a template's parameter, a caption."""
        message = self.message
        if self.type == "text":
            return str(message["text"]["body"])
        if self.type == "interactive":
            return str(message["interactive"]["body"]["text"])
        if self.type == "template":
            return str(message["template"]["components"][0]["parameters"][0]["text"])
        return str(message[self.type].get("caption", ""))

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(id, label) of its reply buttons or list rows; a row cut to 24 characters is read
        from its description (where the renderer puts the whole label)."""
        if self.type != "interactive":
            return []
        interactive = self.message["interactive"]
        action = interactive["action"]
        if interactive["type"] == "button":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
        if interactive["type"] == "list":
            rows = [r for s in action["sections"] for r in s["rows"]]
            return [(r["id"], r.get("description") or r["title"]) for r in rows]
        return []

    @property
    def link(self) -> tuple[str, str] | None:
        if self.type == "interactive" and self.message["interactive"]["type"] == "cta_url":
            parameters = self.message["interactive"]["action"]["parameters"]
            return parameters["display_text"], parameters["url"]
        return None


@dataclass
class StoredMedia:
    content: bytes
    mime_type: str
    filename: str | None = None


@dataclass
class FakeGraphApi:
    token: str = "EAAtest-token"
    phone_number_id: str = "106540352242922"
    app_secret: str = "test-app-secret"
    clock: Callable[[], float] = time.time
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)  # (to, error code)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    last_inbound: dict[str, float] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    send_times: list[tuple[str, float]] = field(default_factory=list)
    base_url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition | None = None

    async def __aenter__(self) -> FakeGraphApi:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_post(f"/{VERSION}/{{number}}/messages", self._messages)
        app.router.add_post(f"/{VERSION}/{{number}}/media", self._upload)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self._media_info)
        app.router.add_get("/download/{media_id}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        self._arrived = asyncio.Condition()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what the tests arrange ----------------------------------------------------------

    def fail_next(self, to: str, code: int, times: int = 1) -> None:
        self.failures[to] += [code] * times

    def add_media(self, content: bytes, mime_type: str, filename: str | None = None) -> str:
        media_id = str(900_000_000 + next(self._ids))
        self.media[media_id] = StoredMedia(content, mime_type, filename)
        return media_id

    def to(self, wa_id: str) -> list[Sent]:
        return [s for s in self.sent if s.to == wa_id]

    async def wait_for(self, wa_id: str, count: int, seconds: float = 10.0) -> list[Sent]:
        """The first ``count`` messages sent to ``wa_id`` (waits for them)."""
        assert self._arrived is not None
        async with asyncio.timeout(seconds), self._arrived:
            await self._arrived.wait_for(lambda: len(self.to(wa_id)) >= count)
        return self.to(wa_id)[:count]

    # -- the Graph API -------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode())

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(190)
        if request.match_info["number"] != self.phone_number_id:
            return _error(100, "unknown phone number id")
        body = await request.json()
        to = str(body.get("to", ""))
        problem = check_message(body)
        if problem:
            self.refused.append((to, 100))
            return _error(100, problem)
        self.send_times.append((to, self.clock()))
        if self.failures.get(to):
            code = self.failures[to].pop(0)
            self.refused.append((to, code))
            return _error(code)
        last = self.last_inbound.get(to)
        if body["type"] != "template" and (last is None or self.clock() - last >= WINDOW_SECONDS):
            self.refused.append((to, 131047))
            return _error(131047)
        wamid = f"wamid.{secrets.token_hex(12)}"
        message = {k: v for k, v in body.items() if k not in ("messaging_product", "to")}
        message.pop("recipient_type", None)
        self.sent.append(Sent(to, message, wamid, self.clock()))
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(190)
        form = await request.post()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not hasattr(upload, "file"):
            return _error(100, "messaging_product and file are required")
        content = upload.file.read()  # type: ignore[union-attr]
        mime = str(form.get("type") or upload.content_type)  # type: ignore[union-attr]
        return web.json_response({"id": self.add_media(content, mime, upload.filename)})  # type: ignore[union-attr]

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(190)
        media_id = request.match_info["media_id"]
        stored = self.media.get(media_id)
        if stored is None:
            return _error(100, "unknown media id")
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/download/{media_id}?ext=1",
                "mime_type": stored.mime_type,
                "sha256": hashlib.sha256(stored.content).hexdigest(),
                "file_size": str(len(stored.content)),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authorised(request):  # "a generic GET will not return the media"
            return web.Response(status=401)
        stored = self.media.get(request.match_info["media_id"])
        if stored is None:
            return web.Response(status=404)
        return web.Response(body=stored.content, content_type=stored.mime_type)

    # -- webhooks, as Meta posts them --------------------------------------------------

    def envelope(self, value: JSON) -> JSON:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550783881",
                "phone_number_id": self.phone_number_id,
            },
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}
            ],
        }

    def inbound(self, wa_id: str, kind: str, body: JSON, *, name: str = "Customer") -> JSON:
        """A customer's message; the window opens (the fake keeps it like Meta does)."""
        at = self.clock()
        self.last_inbound[wa_id] = at
        message = {
            "from": wa_id,
            "id": f"wamid.{secrets.token_hex(12)}",
            "timestamp": str(int(at)),
            "type": kind,
            kind: body,
        }
        return self.envelope(
            {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}
        )

    def status(self, wamid: str, wa_id: str, status: str, *errors: int) -> JSON:
        entry: JSON = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(self.clock())),
            "recipient_id": wa_id,
        }
        if errors:
            entry["errors"] = [
                {"code": code, "title": ERRORS.get(code, (0, "error"))[1]} for code in errors
            ]
        return self.envelope({"statuses": [entry]})

    def sign(self, raw: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()

    async def post(
        self,
        session: aiohttp.ClientSession,
        url: str,
        payload: JSON,
        *,
        signature: str | None = None,
    ) -> int:
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        headers["X-Hub-Signature-256"] = self.sign(raw) if signature is None else signature
        if signature == "":
            del headers["X-Hub-Signature-256"]
        async with session.post(url, data=raw, headers=headers) as response:
            return response.status


def check_message(body: JSON) -> str | None:
    """What Meta would refuse in a send request (None: it is well formed)."""
    if body.get("messaging_product") != "whatsapp" or not str(body.get("to", "")).isdigit():
        return "messaging_product whatsapp and a recipient are required"
    kind = body.get("type")
    if kind == "text":
        text = body["text"]["body"]
        return None if 0 < len(text) <= 4096 else "text body must be 1 to 4096 characters"
    if kind == "interactive":
        return _check_interactive(body["interactive"])
    if kind == "template":
        template = body["template"]
        ok = template.get("name") and template.get("language", {}).get("code")
        return None if ok else "template name and language code are required"
    if kind in ("document", "image"):
        return None if body[kind].get("id") or body[kind].get("link") else "media id required"
    return f"unknown message type {kind!r}"


def _check_interactive(interactive: JSON) -> str | None:
    body = interactive.get("body", {}).get("text", "")
    if not 0 < len(body) <= 1024:
        return "interactive body must be 1 to 1024 characters"
    action = interactive["action"]
    kind = interactive["type"]
    if kind == "button":
        buttons = action["buttons"]
        titles = [b["reply"]["title"] for b in buttons]
        ids = [b["reply"]["id"] for b in buttons]
        if not 1 <= len(buttons) <= 3 or any(not 0 < len(t) <= 20 for t in titles):
            return "1 to 3 buttons, titles of 1 to 20 characters"
        if len(set(ids)) != len(ids) or len(set(titles)) != len(titles):
            return "button ids and titles must be unique"
        return None
    if kind == "list":
        rows = [r for s in action["sections"] for r in s["rows"]]
        if not 0 < len(action["button"]) <= 20 or not 1 <= len(rows) <= 10:
            return "a list button of 1 to 20 characters and 1 to 10 rows"
        if any(not 0 < len(r["title"]) <= 24 or len(r.get("description", "")) > 72 for r in rows):
            return "row titles of 1 to 24 characters, descriptions of at most 72"
        return None
    if kind == "cta_url":
        parameters = action["parameters"]
        if not 0 < len(parameters["display_text"]) <= 20:
            return "display_text of 1 to 20 characters"
        return None if str(parameters["url"]).startswith(("http://", "https://")) else "a URL"
    return f"unknown interactive type {kind!r}"


def _error(code: int, details: str | None = None) -> web.Response:
    status, message = ERRORS.get(code, (400, f"(#{code}) error"))
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details or message},
        "fbtrace_id": secrets.token_hex(8),
    }
    return web.json_response({"error": error}, status=status)
