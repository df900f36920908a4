"""The Graph API calls the WhatsApp channel makes, on one pooled aiohttp session.

A small client of our own rather than a library (README, "Running on WhatsApp"): we make five
calls (send a message, retrieve a media URL, download it, upload media, nothing else), we need
their failures as our own exception classes so the dispatcher can tell passing from final, and
aiohttp is already the web server's library. Calls:

* ``POST /{phone-number-id}/messages`` → ``{"messages": [{"id": "wamid…"}]}``
* ``GET /{media-id}`` → ``{"url": …, "mime_type": …, "file_size": …}``, then ``GET url`` with
  the same bearer token → the bytes (the URL is valid for five minutes)
* ``POST /{phone-number-id}/media`` (multipart: ``messaging_product``, ``type``, ``file``) →
  ``{"id": …}``

The token goes only into the ``Authorization`` header; no URL, token or phone number is put into
an error or a log line (the phone number id is in URLs, so URLs are never logged either).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels.whatsapp.errors import (
    MediaTooLarge,
    WhatsAppError,
    WhatsAppUnavailable,
    error_for,
)
from bot.ops import metrics

GRAPH_API_BASE = "https://graph.facebook.com"
GRAPH_API_VERSION = "v21.0"
Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Media:
    """A downloaded file."""

    content: bytes
    mime_type: str
    size: int


class GraphClient:
    def __init__(
        self,
        token: str,
        phone_number_id: str,
        *,
        base: str = GRAPH_API_BASE,
        version: str = GRAPH_API_VERSION,
        timeout: float = 20.0,
    ) -> None:
        self._auth = {"Authorization": f"Bearer {token}"}
        self.phone_number_id = phone_number_id
        self._root = f"{base.rstrip('/')}/{version}/"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def send(self, to: str, message: Payload) -> str:
        """Send one message (``message``: its ``type`` and body); the ``wamid`` back."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        answer = await self._json("POST", f"{self.phone_number_id}/messages", {**body, **message})
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise WhatsAppUnavailable(0, "a send answer without a message id", 200) from None

    async def media_info(self, media_id: str) -> Payload:
        return await self._json("GET", media_id, None)

    async def download(self, media_id: str, *, max_bytes: int) -> Media:
        """The file behind ``media_id``; a file over ``max_bytes`` is refused before download
        (:class:`~bot.channels.whatsapp.errors.MediaTooLarge`)."""
        info = await self.media_info(media_id)
        size = int(info.get("file_size") or 0)
        if size > max_bytes:
            raise MediaTooLarge(size, max_bytes)
        url = str(info.get("url") or "")
        if not url.startswith(("https://", "http://")):
            raise WhatsAppUnavailable(0, "a media answer without a URL", 200)
        try:
            async with self._http().get(url, headers=self._auth) as response:
                content = await response.content.read(max_bytes + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.bot_api_call("waMediaDownload", "error")
            raise WhatsAppUnavailable(0, type(exc).__name__, 0) from None
        metrics.bot_api_call("waMediaDownload", str(status))
        if status != 200:
            raise error_for(status, 0, "media download refused")
        if len(content) > max_bytes:
            raise MediaTooLarge(len(content), max_bytes)
        mime = str(info.get("mime_type") or "application/octet-stream")
        return Media(content, mime, len(content))

    async def upload(self, content: bytes, filename: str, mime_type: str) -> str:
        """Upload a file for sending; its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", content, filename=filename, content_type=mime_type)
        answer = await self._request("POST", f"{self.phone_number_id}/media", data=form)
        try:
            return str(answer["id"])
        except (KeyError, TypeError):
            raise WhatsAppUnavailable(0, "an upload answer without an id", 200) from None

    async def _json(self, method: str, path: str, body: Payload | None) -> Payload:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        return await self._request(method, path, data=data, headers=headers)

    async def _request(
        self, method: str, path: str, *, data: Any, headers: dict[str, str] | None = None
    ) -> Payload:
        label = _label(method, path)
        try:
            async with self._http().request(
                method, self._root + path, data=data, headers={**self._auth, **(headers or {})}
            ) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:  # their text may hold the URL
            metrics.bot_api_call(label, "error")
            raise WhatsAppUnavailable(0, type(exc).__name__, 0) from None
        metrics.bot_api_call(label, str(status))
        return _answer(status, raw)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _label(method: str, path: str) -> str:
    """The metric's method label: a bounded word, never an id."""
    if path.endswith("/messages"):
        return "waMessages"
    if path.endswith("/media"):
        return "waMediaUpload"
    return "waMedia" if method == "GET" else "waOther"


def _answer(status: int, raw: bytes) -> Payload:
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise error_for(status if status >= 400 else 502, 0, "an answer that is not JSON")
    error = answer.get("error")
    if 200 <= status <= 299 and not error:
        return answer
    if not isinstance(error, dict):
        raise error_for(status, 0, f"HTTP {status}")
    code = error.get("code")
    title = error.get("error_user_title") or error.get("message") or f"HTTP {status}"
    raise error_for(status, int(code) if isinstance(code, int) else 0, str(title)[:200])


__all__ = ["GraphClient", "Media", "WhatsAppError"]
