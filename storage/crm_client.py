"""The CRM's HTTP side: one signed JSON call with timeouts, retries with jittered backoff and a
circuit breaker (see :mod:`storage.crm_http` for the look-ups on top)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp

from dialogs.errors import LookupUnavailable
from storage.breaker import CircuitBreaker
from storage.crm_wire import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class CrmConfig:
    url: str
    token: str
    auth: Literal["bearer", "hmac"] = "bearer"
    timeout: float = 2.0
    retries: int = 2
    backoff: float = 0.1
    cache_seconds: float = 30.0
    min_seconds: float = 0.0
    breaker_failures: int = 5
    breaker_seconds: float = 30.0
    max_bytes: int = 1_000_000


class CrmClient:
    def __init__(
        self,
        config: CrmConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._breaker = CircuitBreaker(config.breaker_failures, config.breaker_seconds, clock)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
                raise_for_status=False,
            )
        return self._session

    def _headers(self, body: bytes, target: str) -> dict[str, str]:
        """``target`` (path and query) is what is signed for a request without a body."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.auth == "hmac":
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            signed = body or target.encode()
            headers[SIGNATURE_HEADER] = sign(self.config.token, timestamp, signed)
        else:
            headers["Authorization"] = f"Bearer {self.config.token}"
        return headers

    async def request(self, method: str, op: str, payload: dict[str, Any] | None) -> Any:
        """One call with retries and the breaker; the decoded JSON, or LookupUnavailable."""
        if not self._breaker.allow():
            raise LookupUnavailable("the CRM circuit is open")
        try:
            data = await self._with_retries(method, op, payload)
        except LookupUnavailable:
            self._breaker.failure()
            raise
        self._breaker.success()
        return data

    async def _with_retries(self, method: str, op: str, payload: dict[str, Any] | None) -> Any:
        body = b"" if payload is None else json.dumps(payload, sort_keys=True).encode()
        url = f"{self.config.url.rstrip('/')}/v1/{op}"
        reason = "no attempt"
        for attempt in range(self.config.retries + 1):
            if attempt:
                delay = self.config.backoff * 2 ** (attempt - 1)
                await self._sleep(delay + random.uniform(0, delay))  # noqa: S311 - jitter
            try:
                return await self._once(method, url, body)
            except _Retry as exc:
                reason = exc.reason
        name = op.split("?", maxsplit=1)[0]
        raise LookupUnavailable(f"{name}: {reason} (after {self.config.retries + 1} attempts)")

    async def _once(self, method: str, url: str, body: bytes) -> Any:
        op = url.rsplit("/v1/", 1)[-1].split("?", maxsplit=1)[0]
        parts = urlsplit(url)
        headers = self._headers(body, parts.path + (f"?{parts.query}" if parts.query else ""))
        try:
            async with self._http().request(
                method, url, data=body or None, headers=headers
            ) as response:
                if response.status in RETRY_STATUS:
                    raise _Retry(f"HTTP {response.status}")
                if response.status in (401, 403):
                    raise LookupUnavailable(f"{op}: the CRM refused our credentials")
                if response.status != 200:
                    raise LookupUnavailable(f"{op}: unexpected HTTP {response.status}")
                if (response.content_length or 0) > self.config.max_bytes:
                    raise LookupUnavailable(f"{op}: answer over {self.config.max_bytes} bytes")
                raw = await response.content.read(self.config.max_bytes + 1)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise _Retry(type(exc).__name__) from None
        if len(raw) > self.config.max_bytes:
            raise LookupUnavailable(f"{op}: answer over {self.config.max_bytes} bytes")
        try:
            return json.loads(raw)
        except ValueError:
            raise LookupUnavailable(f"{op}: the answer is not JSON") from None


class _Retry(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
