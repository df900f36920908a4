"""The live look-up connector: the company's CRM asked over HTTP (contract: docs/crm-api.yaml).

:class:`HttpCrm` implements the engine's :class:`~dialogs.ports.RecordLookup` and
:class:`~dialogs.ports.ContractLookup`. Every look-up is a ``POST {CRM_LOOKUP_URL}/v1/<op>``
with a JSON body, authenticated by a bearer token or an HMAC-SHA256 signature of the body.

* **Timeouts and retries.** Each attempt has ``timeout`` seconds; look-ups are read-only, so a
  timeout, a refused connection, a 429 or a 5xx is tried again after an exponential backoff
  with jitter, ``retries`` times.
* **Circuit breaker.** After ``breaker_failures`` failed look-ups in a row the CRM is not asked
  for ``breaker_seconds``; then one probe goes through. While open every look-up raises
  :class:`~dialogs.errors.LookupUnavailable` at once.
* **Never a false "not found".** A CRM that is down, slow, refuses our credentials or answers
  something that is not the contract raises LookupUnavailable: the conversation parks on the
  step and the customer is told to try again (dialogs/navigation.py).
* **Cache.** Matches are kept ``cache_seconds``; a "no match" is never cached, so an e-mail the
  company has just added works at once. :meth:`HttpCrm.invalidate` empties the cache.
* **No enumeration by timing.** Every answered look-up (match or not, cached or not) takes at
  least ``min_seconds``: set it above the CRM's slowest usual answer and a known identity
  cannot be told from an unknown one by the time the customer waits.

A matched customer is mirrored into the local ``customers`` table (:class:`CrmMirror`) so the
rest of the bot (tokens, tickets, consents) keeps referring to a local id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dialogs.errors import LookupUnavailable
from dialogs.ports import ContractInfo, CustomerMatch, DeviceInfo, FoundContract, FoundPolicy
from storage.crm_mirror import CrmMirror, RemoteCustomer
from storage.records import normalise_email, normalise_phone
from storage.taxids import normalise_tax_id

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
SIGNATURE_HEADER = "X-Onboard-Signature"
TIMESTAMP_HEADER = "X-Onboard-Timestamp"


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


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The HMAC signature the CRM checks: hex SHA-256 of ``timestamp + "." + body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class CircuitBreaker:
    """Closed → open after ``failures`` failures in a row → half-open after ``seconds``."""

    def __init__(self, failures: int, seconds: float, clock: Callable[[], float]) -> None:
        self._limit, self._seconds, self._clock = failures, seconds, clock
        self._count = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        if self._opened_at is None:
            return True
        if self._clock() - self._opened_at < self._seconds or self._probing:
            return False
        self._probing = True  # half-open: one call finds out
        return True

    def success(self) -> None:
        self._count, self._opened_at, self._probing = 0, None, False

    def failure(self) -> None:
        self._count += 1
        self._probing = False
        if self._count >= self._limit or self._opened_at is not None:
            if self._opened_at is None:
                log.warning("CRM circuit opened after %s failed look-ups", self._count)
            self._opened_at = self._clock()


# -- the wire format (docs/crm-api.yaml) ------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireCustomer(_Wire):
    id: str = Field(min_length=1, max_length=100)
    scheme: str = Field(min_length=1, max_length=16)
    tax_id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=300)
    flags: dict[str, bool] = Field(default_factory=dict)

    def remote(self) -> RemoteCustomer:
        return RemoteCustomer(self.id, self.scheme, self.tax_id, self.name, self.flags)


class CustomerAnswer(_Wire):
    match: bool
    customer: WireCustomer | None = None


class PolicyAnswer(CustomerAnswer):
    contract_number: str | None = None
    holder: bool = True


class ContractAnswer(CustomerAnswer):
    contract_number: str | None = None
    edition: str | None = None


class OnlineAnswer(_Wire):
    match: bool


class WireDevice(_Wire):
    serial: str
    name: str


class WireContract(_Wire):
    number: str
    product: str
    edition: str | None = None
    active: bool = True
    holder: str | None = None
    online_bought: bool = False
    devices: tuple[WireDevice, ...] = ()


class ContractsAnswer(_Wire):
    contracts: tuple[WireContract, ...] = Field(max_length=500)


class ConsentAnswer(_Wire):
    given: bool


A = TypeVar("A", bound=_Wire)


class HttpCrm:
    """The company's CRM as the engine's record and contract look-ups."""

    def __init__(
        self,
        config: CrmConfig,
        mirror: CrmMirror,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._mirror = mirror
        self._clock = clock
        self._sleep = sleep
        self._breaker = CircuitBreaker(config.breaker_failures, config.breaker_seconds, clock)
        self._cache: dict[str, tuple[float, _Wire]] = {}
        self._session: aiohttp.ClientSession | None = None

    # -- plumbing ----------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget every cached match (after a sync, or when the company says so)."""
        self._cache.clear()

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

    async def _lookup(self, op: str, payload: dict[str, Any], model: type[A]) -> A:
        key = op + json.dumps(payload, sort_keys=True)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return model.model_validate(cached[1].model_dump())
        data = await self.request("POST", op, payload)
        try:
            answer = model.model_validate(data)
        except ValidationError as exc:
            raise LookupUnavailable(
                f"{op}: malformed answer ({exc.error_count()} problems)"
            ) from None
        if getattr(answer, "match", None) is True or not hasattr(answer, "match"):
            self._cache[key] = (self._clock() + self.config.cache_seconds, answer)
        return answer

    async def _padded(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call`` taking at least ``min_seconds``, whatever it answers."""
        started = self._clock()
        result = await call()
        rest = self.config.min_seconds - (self._clock() - started)
        if rest > 0:
            await self._sleep(rest)
        return result

    async def _customer(self, answer: CustomerAnswer, op: str) -> CustomerMatch | None:
        if not answer.match:
            return None
        if answer.customer is None:
            raise LookupUnavailable(f"{op}: a match without its customer")
        customer_id = await self._mirror.ensure(answer.customer.remote())
        return CustomerMatch(customer_id, answer.customer.name, dict(answer.customer.flags))

    # -- RecordLookup ------------------------------------------------------------------

    async def match_customer(
        self, *, tax_scheme: str, tax_id: str, email: str | None = None, phone: str | None = None
    ) -> CustomerMatch | None:
        async def call() -> CustomerMatch | None:
            if email is None and phone is None:
                return None
            try:
                number = normalise_tax_id(tax_scheme, tax_id)
            except ValueError:
                return None
            payload: dict[str, Any] = {"scheme": tax_scheme, "tax_id": number}
            if email is not None:
                payload["email"] = normalise_email(email)
            if phone is not None:
                payload["phone"] = normalise_phone(phone)
            answer = await self._lookup("customers/match", payload, CustomerAnswer)
            return await self._customer(answer, "customers/match")

        return await self._padded(call)

    # -- ContractLookup ----------------------------------------------------------------

    async def find_contract(
        self, *, tax_scheme: str, tax_id: str, number: str, serial: str
    ) -> FoundContract | None:
        async def call() -> FoundContract | None:
            try:
                tax = normalise_tax_id(tax_scheme, tax_id)
            except ValueError:
                return None
            payload = {"scheme": tax_scheme, "tax_id": tax, "number": number, "serial": serial}
            answer = await self._lookup("contracts/match", payload, ContractAnswer)
            customer = await self._customer(answer, "contracts/match")
            if customer is None:
                return None
            if not answer.contract_number:
                raise LookupUnavailable("contracts/match: a match without its contract")
            return FoundContract(customer.customer_id, answer.contract_number, answer.edition)

        return await self._padded(call)

    async def match_policy(self, *, number: str, email: str) -> FoundPolicy | None:
        async def call() -> FoundPolicy | None:
            payload = {"number": number.strip().upper(), "email": normalise_email(email)}
            answer = await self._lookup("policies/match", payload, PolicyAnswer)
            customer = await self._customer(answer, "policies/match")
            if customer is None:
                return None
            contract = answer.contract_number or payload["number"]
            return FoundPolicy(customer.customer_id, customer.name, contract, answer.holder)

        return await self._padded(call)

    async def match_contact(self, *, email: str, phone: str) -> CustomerMatch | None:
        async def call() -> CustomerMatch | None:
            payload = {"email": normalise_email(email), "phone": normalise_phone(phone)}
            answer = await self._lookup("contacts/match", payload, CustomerAnswer)
            return await self._customer(answer, "contacts/match")

        return await self._padded(call)

    async def bought_online(self, *, email: str, phone: str) -> bool:
        async def call() -> bool:
            payload = {"email": normalise_email(email), "phone": normalise_phone(phone)}
            return (await self._lookup("contacts/online", payload, OnlineAnswer)).match

        return await self._padded(call)

    async def contracts_of(self, customer_id: int) -> list[ContractInfo]:
        external = await self._mirror.external_id(customer_id)
        if external is None:
            return await self._mirror.local_contracts(customer_id)
        answer = await self._lookup("customers/contracts", {"customer": external}, ContractsAnswer)
        contracts = [
            ContractInfo(
                number=c.number,
                product=c.product,
                edition=c.edition,
                active=c.active,
                devices=tuple(DeviceInfo(d.serial, d.name) for d in c.devices),
                holder=c.holder,
                online_bought=c.online_bought,
            )
            for c in answer.contracts
        ]
        return sorted(contracts, key=lambda contract: not contract.active)

    async def has_consent(self, customer_id: int, kind: str) -> bool:
        if await self._mirror.local_consent(customer_id, kind):
            return True  # given in this chat (recorded locally) or loaded from a file
        external = await self._mirror.external_id(customer_id)
        if external is None:
            return False
        payload = {"customer": external, "kind": kind}
        return (await self._lookup("customers/consent", payload, ConsentAnswer)).given


class _Retry(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
