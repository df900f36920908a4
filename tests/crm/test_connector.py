"""The live look-up connector against a CRM on loopback that misbehaves: down, slow, wrong
token, malformed, not JSON, huge answers; retries, the circuit breaker, the cache, HMAC."""

from __future__ import annotations

import re

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.errors import LookupUnavailable
from storage.models import CustomerRow
from tests.crm.conftest import connector
from tests.crm.server import LOOKUPS, ROOT, FakeCrm

pytestmark = pytest.mark.crm
DEMO = {"tax_scheme": "bg_eik", "tax_id": "175074752", "email": "Demo@Example.com"}


async def test_a_match_is_mirrored_and_a_mismatch_is_none(crm: FakeCrm, db: AsyncEngine) -> None:
    live = connector(crm, db)
    try:
        match = await live.match_customer(**DEMO)
        assert match is not None
        assert match.name == "Demo Ltd."
        assert match.flags.get("active_subscription") is True
        assert await live.match_customer(**{**DEMO, "email": "someone@example.com"}) is None
        assert await live.match_customer(**{**DEMO, "tax_id": "831007822"}) is None
        # a malformed tax id never leaves the bot
        before = len(crm.requests)
        assert await live.match_customer(**{**DEMO, "tax_id": "175074753"}) is None
        assert len(crm.requests) == before
    finally:
        await live.close()
    async with db.connect() as connection:
        rows = (await connection.execute(select(CustomerRow.id, CustomerRow.external_id))).all()
    assert rows == [(match.customer_id, "C-1")]
    # what the bot sends is normalised: lower-case e-mail, digits of the tax id
    assert crm.requests[0] == (
        "customers/match",
        {"scheme": "bg_eik", "tax_id": "175074752", "email": "demo@example.com"},
    )


@pytest.mark.parametrize("behaviour", ["down", "malformed", "not_json", "huge", "wrong_status"])
async def test_a_crm_that_cannot_answer_is_unavailable_never_not_found(
    crm: FakeCrm, db: AsyncEngine, behaviour: str
) -> None:
    crm.behaviour = behaviour
    live = connector(crm, db)
    try:
        with pytest.raises(LookupUnavailable) as caught:
            await live.match_customer(**DEMO)
    finally:
        await live.close()
    assert "demo@example.com" not in str(caught.value)  # nothing personal in the reason
    async with db.connect() as connection:
        assert (await connection.execute(select(CustomerRow.id))).all() == []


async def test_down_is_retried_with_backoff_then_given_up(crm: FakeCrm, db: AsyncEngine) -> None:
    crm.behaviour = "down"
    live = connector(crm, db, retries=2)
    try:
        with pytest.raises(LookupUnavailable, match="HTTP 503"):
            await live.match_customer(**DEMO)
    finally:
        await live.close()
    assert crm.ops() == ["customers/match"] * 3  # the first try and two retries


async def test_malformed_answers_are_not_retried(crm: FakeCrm, db: AsyncEngine) -> None:
    crm.behaviour = "malformed"
    live = connector(crm, db, retries=2)
    try:
        with pytest.raises(LookupUnavailable, match="malformed"):
            await live.match_customer(**DEMO)
    finally:
        await live.close()
    assert len(crm.requests) == 1


async def test_slow_is_a_timeout(crm: FakeCrm, db: AsyncEngine) -> None:
    crm.behaviour, crm.slow_seconds = "slow", 2.0
    live = connector(crm, db, timeout=0.2, retries=1)
    try:
        with pytest.raises(LookupUnavailable, match="TimeoutError"):
            await live.match_customer(**DEMO)
    finally:
        await live.close()
    assert len(crm.requests) == 2


async def test_a_wrong_token_is_refused_and_not_retried(crm: FakeCrm, db: AsyncEngine) -> None:
    live = connector(crm, db)
    crm.token = "the-token-was-rotated"
    try:
        with pytest.raises(LookupUnavailable, match="refused our credentials"):
            await live.match_customer(**DEMO)
    finally:
        await live.close()
    assert len(crm.requests) == 1


async def test_hmac_signature_of_the_body(crm: FakeCrm, db: AsyncEngine) -> None:
    crm.auth = "hmac"
    live = connector(crm, db)
    try:
        assert await live.match_customer(**DEMO) is not None
        crm.token = "another-key"
        with pytest.raises(LookupUnavailable, match="refused"):
            await live.match_customer(**{**DEMO, "email": "someone@example.com"})
    finally:
        await live.close()


async def test_the_circuit_opens_then_lets_one_probe_through(crm: FakeCrm, db: AsyncEngine) -> None:
    now = [1000.0]
    crm.behaviour = "down"
    live = connector(
        crm,
        db,
        clock=lambda: now[0],
        retries=0,
        breaker_failures=2,
        breaker_seconds=30.0,
        cache_seconds=0.0,
    )
    try:
        for _ in range(2):
            with pytest.raises(LookupUnavailable, match="HTTP 503"):
                await live.match_customer(**DEMO)
        with pytest.raises(LookupUnavailable, match="circuit is open"):
            await live.match_customer(**DEMO)
        assert len(crm.requests) == 2  # the open circuit did not ask
        crm.behaviour = "ok"
        now[0] += 31
        assert await live.match_customer(**DEMO) is not None  # the probe closes it
        assert await live.match_customer(**DEMO) is not None
    finally:
        await live.close()
    assert len(crm.requests) == 4


async def test_matches_are_cached_mismatches_are_not(crm: FakeCrm, db: AsyncEngine) -> None:
    live = connector(crm, db, cache_seconds=60.0)
    wrong = {**DEMO, "email": "new@example.com"}
    try:
        assert await live.match_customer(**DEMO) is not None
        assert await live.match_customer(**DEMO) is not None
        assert crm.ops().count("customers/match") == 1
        assert await live.match_customer(**wrong) is None
        # the company adds the e-mail by phone (seed 000): it works at once
        row = crm.rows["C-1"]
        crm.rows["C-1"] = row.model_copy(update={"emails": (*row.emails, "new@example.com")})
        assert await live.match_customer(**wrong) is not None
        live.invalidate()
        assert await live.match_customer(**DEMO) is not None
    finally:
        await live.close()
    assert crm.ops().count("customers/match") == 4


async def test_contracts_and_consents_of_a_mirrored_customer(crm: FakeCrm, db: AsyncEngine) -> None:
    live = connector(crm, db)
    try:
        policy = await live.match_policy(number="hu-2024-0001", email="iroda@example.hu")
        assert policy is not None
        assert policy.holder
        assert await live.has_consent(policy.customer_id, "e_communication")
        other = await live.match_policy(number="HU-2024-0003", email="szolgaltato@minta.example.hu")
        assert other is not None
        assert not other.holder
        contracts = await live.contracts_of(policy.customer_id)
        assert [c.number for c in contracts] == ["HU-2024-0001"]
        assert await live.bought_online(email="office@example.kz", phone="+7 701 123 4567")
        assert not await live.bought_online(email="kabinet@example.kz", phone="+77025550101")
    finally:
        await live.close()


def test_the_openapi_document_describes_every_operation() -> None:
    document = yaml.safe_load((ROOT / "docs" / "crm-api.yaml").read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {f"/v1/{op}" for op in LOOKUPS} | {"/v1/changes"}
    source = (ROOT / "storage" / "crm_http.py").read_text(encoding="utf-8")
    assert set(re.findall(r'_lookup\(\s*"([a-z/]+)"', source)) == LOOKUPS
