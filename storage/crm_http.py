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
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from dialogs.errors import LookupUnavailable
from dialogs.ports import ContractInfo, CustomerMatch, DeviceInfo, FoundContract, FoundPolicy
from storage.crm_client import CrmClient, CrmConfig
from storage.crm_mirror import CrmMirror
from storage.crm_wire import (
    ConsentAnswer,
    ContractAnswer,
    ContractsAnswer,
    CustomerAnswer,
    OnlineAnswer,
    PolicyAnswer,
    Wire,
)
from storage.records import normalise_email, normalise_phone
from storage.taxids import normalise_tax_id

log = logging.getLogger(__name__)
T = TypeVar("T")
A = TypeVar("A", bound=Wire)


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
        self._client = CrmClient(config, clock=clock, sleep=sleep)
        self._cache: dict[str, tuple[float, Wire]] = {}

    # -- plumbing ----------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget every cached match (after a sync, or when the company says so)."""
        self._cache.clear()

    async def close(self) -> None:
        await self._client.close()

    async def request(self, method: str, op: str, payload: dict[str, Any] | None) -> Any:
        """One call with retries and the breaker; the decoded JSON, or LookupUnavailable."""
        return await self._client.request(method, op, payload)

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
