"""A small Bot API client for the calls the dispatcher makes for every turn.

Replies (``sendMessage``), button answers and the agents' group posts are plain JSON: one
``application/json`` body, one parse of the answer. python-telegram-bot's ``Bot`` builds a
``RequestParameter`` per argument, JSON-encodes each of them separately for a form body and
walks its request layers; on the benchmark that was ~80 µs of CPU a reply, more than the
engine's turn. Everything else (uploads, start-up calls, long polling) still goes through
``Bot``; :func:`plain` says which calls can come here.

Failures are python-telegram-bot's exception classes, mapped from Telegram's answer the way
its request layer maps them (``retry_after`` → ``RetryAfter``, 403 → ``Forbidden``, 400 →
``BadRequest``, 401/404 → ``InvalidToken``, anything else → ``NetworkError``), so the sender
and the dispatcher treat both paths alike. Every call is counted as
``onboard_bot_api_calls_total{method,status}``; no URL (it holds the token) is ever logged or
put into an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import orjson
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.ops import metrics

_JSON = {"Content-Type": "application/json"}
_PLAIN = (str, int, float, bool, dict, list, tuple, type(None))


class JsonPoster(Protocol):
    """The HTTP layer: POST a JSON body to a Bot API method; the status and the body back."""

    async def post_json(self, method: str, body: bytes) -> tuple[int, bytes]: ...


class AiohttpPoster:
    """:class:`JsonPoster` over aiohttp, one pooled session (made on first use, in the loop
    that uses it). ``base`` is the Bot API root (``https://api.telegram.org``)."""

    def __init__(self, base: str, token: str, *, timeout: float = 20.0, connections: int = 64):
        self._root = f"{base.rstrip('/')}/bot{token}/"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def post_json(self, method: str, body: bytes) -> tuple[int, bytes]:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._connections)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        try:
            async with self._session.post(self._root + method, data=body, headers=_JSON) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut(f"{method}: no answer in time") from exc
        except aiohttp.ClientError as exc:  # its text may name the URL: the class only
            raise NetworkError(f"{method}: {type(exc).__name__}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def plain(params: Mapping[str, object]) -> bool:
    """True when every argument is JSON as it is (no upload, no python-telegram-bot object)."""
    return all(isinstance(value, _PLAIN) for value in params.values())


class BotApiClient:
    def __init__(self, poster: JsonPoster) -> None:
        self.poster = poster

    async def call(self, method: str, params: Mapping[str, object]) -> Any:
        """``method`` with ``params`` (None values left out); its ``result``."""
        body = orjson.dumps({name: value for name, value in params.items() if value is not None})
        try:
            status, payload = await self.poster.post_json(method, body)
        except Exception:
            metrics.bot_api_call(method, "error")
            raise
        metrics.bot_api_call(method, str(status))
        return _result(status, payload)

    async def close(self) -> None:
        close = getattr(self.poster, "close", None)
        if close is not None:
            await close()


def _result(status: int, payload: bytes) -> Any:
    try:
        answer = orjson.loads(payload)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        raise NetworkError(f"the Bot API answered {status} with something that is not JSON")
    if 200 <= status <= 299 and answer.get("ok"):
        return answer.get("result")
    raise _error(status, answer)


def _error(status: int, answer: dict[str, Any]) -> TelegramError:
    message = str(answer.get("description") or f"HTTP {status}")
    parameters = answer.get("parameters") or {}
    if isinstance(parameters, dict):
        if parameters.get("migrate_to_chat_id"):
            return ChatMigrated(int(parameters["migrate_to_chat_id"]))
        if parameters.get("retry_after"):
            return RetryAfter(int(parameters["retry_after"]))
    if status == 403:
        return Forbidden(message)
    if status in {401, 404}:
        return InvalidToken(message)
    if status == 400:
        return BadRequest(message)
    if status == 409:
        return Conflict(message)
    if 200 <= status <= 299:
        return BadRequest(message)
    return NetworkError(message)
