"""A company CRM on loopback that speaks docs/crm-api.yaml, written for the tests.

Real HTTP (aiohttp server on a free 127.0.0.1 port); the data are CRM rows parsed from a
file in the import format (by default demo/crm.yaml). ``behaviour`` makes it misbehave the
ways a real CRM does: ``down`` (503), ``slow`` (answers after ``slow_seconds``), ``malformed``
(JSON that is not the contract), ``not_json``, ``huge`` (a body over any sane limit),
``wrong_status`` (418). ``known_delay`` makes every answer about an identity it knows slower
than one about an identity it does not (the enumeration timing check).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from storage.crm_contracts import clean_code
from storage.crm_import import CrmRow, read_crm
from storage.crm_wire import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

ROOT = Path(__file__).resolve().parents[2]
DEMO_CRM = ROOT / "demo" / "crm.yaml"
LOOKUPS = frozenset(
    {
        "customers/match",
        "contracts/match",
        "policies/match",
        "contacts/online",
        "contacts/match",
        "customers/contracts",
        "customers/consent",
    }
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Change:
    """An entry of the list endpoint: a row (created/updated) or a removal."""

    seq: int
    customer_id: str
    row: CrmRow | None  # None: removed at the source


@dataclass
class FakeCrm:
    rows: dict[str, CrmRow]
    token: str = "crm-test-token"
    auth: str = "bearer"
    behaviour: str = "ok"
    slow_seconds: float = 5.0
    known_delay: float = 0.0
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    url: str = ""
    page_size: int = 2

    @classmethod
    def from_file(cls, path: Path = DEMO_CRM, **options: Any) -> FakeCrm:
        rows, errors = read_crm(path)
        assert not errors, errors
        crm = cls({f"C-{i + 1}": row for i, row in enumerate(rows)}, **options)
        crm.changes = [Change(i + 1, cid, row) for i, (cid, row) in enumerate(crm.rows.items())]
        return crm

    # -- changes at the source (for sync) ---------------------------------------------

    def upsert(self, customer_id: str, row: CrmRow) -> None:
        self.rows[customer_id] = row
        self.changes.append(Change(len(self.changes) + 1, customer_id, row))

    def remove(self, customer_id: str) -> None:
        del self.rows[customer_id]
        self.changes.append(Change(len(self.changes) + 1, customer_id, None))

    # -- answers ------------------------------------------------------------------------

    def _customer(self, cid: str) -> dict[str, Any]:
        row = self.rows[cid]
        return {
            "id": cid,
            "scheme": row.scheme,
            "tax_id": row.tax_id,
            "name": row.name,
            "flags": row.flags,
        }

    def answer(self, op: str, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(whether the identity is known to this CRM, the answer)."""
        if op not in LOOKUPS:
            raise web.HTTPNotFound()
        handler = getattr(self, "_" + op.replace("/", "_"))
        result: tuple[bool, dict[str, Any]] = handler(body)
        return result

    def _customers_match(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        known = [
            cid
            for cid, row in self.rows.items()
            if row.scheme == body["scheme"] and row.tax_id == body["tax_id"]
        ]
        for cid in known:
            row = self.rows[cid]
            if ("email" not in body or body["email"] in row.emails) and (
                "phone" not in body or body["phone"] in row.phones
            ):
                return True, {"match": True, "customer": self._customer(cid)}
        return bool(known), {"match": False}

    def _contracts_match(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        for cid, row in self.rows.items():
            if row.scheme != body["scheme"] or row.tax_id != body["tax_id"]:
                continue
            for contract in row.contracts:
                serials = {device.serial for device in contract.devices}
                if (
                    contract.active
                    and contract.number == clean_code(body["number"])
                    and clean_code(body["serial"]) in serials
                ):
                    return True, {
                        "match": True,
                        "customer": self._customer(cid),
                        "contract_number": contract.number,
                        "edition": contract.edition,
                    }
            return True, {"match": False}
        return False, {"match": False}

    def _policies_match(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        for cid, row in self.rows.items():
            for contract in row.contracts:
                if contract.number != clean_code(body["number"]) or not contract.active:
                    continue
                if body["email"] in row.emails or body["email"] == contract.email:
                    holder = contract.holder is None or (
                        contract.holder.casefold() == row.name.casefold()
                    )
                    return True, {
                        "match": True,
                        "customer": self._customer(cid),
                        "contract_number": contract.number,
                        "holder": holder,
                    }
                return True, {"match": False}
        return False, {"match": False}

    def _contacts_online(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        for row in self.rows.values():
            for contract in row.contracts:
                if (
                    contract.online_bought
                    and contract.active
                    and contract.email == body["email"]
                    and contract.phone == body["phone"]
                ):
                    return True, {"match": True}
        return False, {"match": False}

    def _contacts_match(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        for cid, row in self.rows.items():
            if body["email"] in row.emails and body["phone"] in row.phones:
                return True, {"match": True, "customer": self._customer(cid)}
        return False, {"match": False}

    def _customers_contracts(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        row = self.rows[body["customer"]]
        contracts = [
            {
                "number": c.number,
                "product": c.product,
                "edition": c.edition,
                "active": c.active,
                "holder": c.holder,
                "online_bought": c.online_bought,
                "devices": [{"serial": d.serial, "name": d.name} for d in c.devices],
            }
            for c in row.contracts
        ]
        return True, {"contracts": contracts}

    def _customers_consent(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        row = self.rows[body["customer"]]
        return True, {"given": body["kind"] in row.consents}

    def list_changes(self, since: str | None, limit: int) -> dict[str, Any]:
        start = int(since or 0)
        page = [change for change in self.changes if change.seq > start][:limit]
        items = []
        for change in page:
            if change.row is None:
                items.append({"id": change.customer_id, "deleted": True})
            else:
                row = change.row.model_dump(mode="json", exclude_defaults=True)
                items.append({"id": change.customer_id, **row})
        cursor = str(page[-1].seq) if page else str(start)
        more = any(change.seq > int(cursor) for change in self.changes)
        return {"customers": items, "cursor": cursor, "more": more}

    # -- HTTP -----------------------------------------------------------------------------

    def _authorised(self, request: web.Request, body: bytes) -> bool:
        if self.auth == "hmac":
            timestamp = request.headers.get(TIMESTAMP_HEADER, "")
            given = request.headers.get(SIGNATURE_HEADER, "")
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
            signed = body or request.raw_path.encode()  # GET: the path and query are signed
            return fresh and hmac.compare_digest(given, sign(self.token, timestamp, signed))
        return hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {self.token}")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        op = request.match_info["op"]
        payload = json.loads(body) if body else dict(request.query)
        self.requests.append((op, payload))
        if not self._authorised(request, body):
            return web.json_response({"error": "unauthorised"}, status=401)
        if self.behaviour == "down":
            return web.json_response({"error": "maintenance"}, status=503)
        if self.behaviour == "slow":
            await asyncio.sleep(self.slow_seconds)
        if self.behaviour == "wrong_status":
            return web.Response(status=418, text="I'm a teapot")
        if self.behaviour == "not_json":
            return web.Response(text="<html>Gateway error</html>", content_type="text/html")
        if self.behaviour == "malformed":
            return web.json_response({"match": "perhaps", "customer": 7})
        if self.behaviour == "huge":
            return web.Response(body=b'{"match": false, "pad": "' + b"x" * 3_000_000 + b'"}')
        if op == "changes":
            return web.json_response(
                self.list_changes(request.query.get("since"), int(request.query.get("limit", 2)))
            )
        known, answer = self.answer(op, payload)
        if known and self.known_delay:
            await asyncio.sleep(self.known_delay)
        return web.json_response(answer)

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeCrm]:
        app = web.Application(client_max_size=1_000_000)
        app.router.add_route("*", "/v1/{op:.+}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            await runner.cleanup()

    def ops(self) -> list[str]:
        return [op for op, _ in self.requests]
