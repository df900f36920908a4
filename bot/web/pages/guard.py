"""What stands between a form and the database: CSRF and rate limits.

CSRF: a signed double-submit cookie. The page sets a random cookie (``HttpOnly``,
``SameSite=Strict``) and puts ``HMAC(key, cookie | token hash)`` in the form; a POST needs
both to agree. The link's own token is secret too, so a forged form would need all three.

Rate limits: sliding windows in the shared limiter (Redis when ``REDIS_URL`` is set, else SQL:
the one that caps code sends), per token and per client address (a keyed hash of it: addresses
are not stored). Behind load balancers the address is the client's, read from
``X-Forwarded-For`` only when the peer is a trusted proxy (``FORWARDED_ALLOW_IPS``, see
:mod:`bot.web.forwarded`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.web.forwarded import (
    FORWARDED_FOR,
    FORWARDED_PROTO,
    Network,
    client_address,
    forwarded_https,
)

CSRF_COOKIE = "ob_csrf"
CSRF_FIELD = "csrf"


def minutes_until(seconds: float) -> int:
    """Whole minutes to tell a person, never 0 while something is still refused."""
    return max(1, math.ceil(seconds / 60))


class RateLimiter(Protocol):
    async def acquire(self, subject: str, *, now: float, limit: int, window: float) -> float:
        """0 when one more attempt is recorded, else seconds until one is allowed."""
        ...


@dataclass(frozen=True, slots=True)
class PageLimits:
    per_token: int = 10
    per_address: int = 30
    window: float = 900.0


def derive(secret: bytes, purpose: str) -> bytes:
    """A sub-key per use, so a CSRF value can never stand in for anything else."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


class Csrf:
    def __init__(self, secret: bytes, proxies: Sequence[Network] = ()) -> None:
        """``proxies``: load balancers whose ``X-Forwarded-Proto: https`` makes the cookie
        ``Secure`` when TLS ends there (``FORWARDED_ALLOW_IPS``)."""
        self._key = derive(secret, "csrf")
        self._proxies = tuple(proxies)

    def cookie_for(self, request: web.Request) -> str:
        return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)

    def field(self, cookie: str, token_hash: str) -> str:
        message = f"{cookie}|{token_hash}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def set_cookie(self, response: web.Response, request: web.Request, cookie: str) -> None:
        secure = self._https(request)
        response.set_cookie(
            CSRF_COOKIE, cookie, httponly=True, samesite="Strict", secure=secure, path="/"
        )

    def _https(self, request: web.Request) -> bool:
        proto = request.headers.get(FORWARDED_PROTO)
        return request.secure or forwarded_https(request.remote, proto, self._proxies)

    def valid(self, request: web.Request, form_value: str, token_hash: str) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not form_value:
            return False
        return hmac.compare_digest(self.field(cookie, token_hash), form_value)


class Throttle:
    """Counts one submission against the token and against the client address."""

    def __init__(
        self,
        limiter: RateLimiter,
        secret: bytes,
        limits: PageLimits,
        proxies: Sequence[Network] = (),
    ) -> None:
        self._limiter = limiter
        self._key = derive(secret, "address")
        self.limits = limits
        self._proxies = tuple(proxies)

    def _address(self, request: web.Request) -> str:
        forwarded = request.headers.getall(FORWARDED_FOR, ())
        address = client_address(request.remote, forwarded, self._proxies).encode()
        return hmac.new(self._key, address, hashlib.sha256).hexdigest()[:40]

    async def wait(self, request: web.Request, token_hash: str | None, now: float) -> float:
        """Seconds to wait before another submission is accepted (0: go ahead)."""
        limits = self.limits
        checks = [(f"web:addr:{self._address(request)}", limits.per_address)]
        if token_hash is not None:
            checks.insert(0, (f"web:token:{token_hash[:40]}", limits.per_token))
        for subject, limit in checks:
            wait = await self._limiter.acquire(subject, now=now, limit=limit, window=limits.window)
            if wait:
                return wait
        return 0.0
