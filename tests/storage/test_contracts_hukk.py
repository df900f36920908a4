"""The hu and kk look-ups (policyholder by policy number + e-mail; customer by e-mail + phone)
on SQLite and PostgreSQL, against the demo CRM."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.contracts import SqlContracts
from storage.crm_import import load_crm

from .records_fixtures import db_fixture, engine_fixture  # noqa: F401

DEMO = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"


async def test_policy_match_tells_the_policyholder_from_an_insured(engine: AsyncEngine) -> None:
    assert (await load_crm(engine, DEMO)).ok
    contracts = SqlContracts(engine)
    holder = await contracts.match_policy(number="hu-2024-0002", email="INFO@minta.example.hu")
    assert holder is not None
    assert (holder.name, holder.contract_number, holder.holder) == (
        "Minta Bt.",
        "HU-2024-0002",
        True,
    )
    insured = await contracts.match_policy(
        number="HU-2024-0003", email="szolgaltato@minta.example.hu"
    )
    assert insured is not None
    assert insured.holder is False
    with_consent = await contracts.match_policy(number="HU-2024-0001", email="iroda@example.hu")
    assert with_consent is not None
    assert await contracts.has_consent(with_consent.customer_id, "e_communication")
    assert not await contracts.has_consent(holder.customer_id, "e_communication")


async def test_policy_match_mismatches_are_all_none(engine: AsyncEngine) -> None:
    await load_crm(engine, DEMO)
    contracts = SqlContracts(engine)
    assert (
        await contracts.match_policy(number="HU-2023-0009", email="info@minta.example.hu") is None
    )
    assert await contracts.match_policy(number="HU-2024-0002", email="iroda@example.hu") is None
    assert await contracts.match_policy(number="HU-2024-9999", email="iroda@example.hu") is None
    assert await contracts.match_policy(number="", email="") is None


async def test_contact_match_needs_both_on_one_customer(engine: AsyncEngine) -> None:
    await load_crm(engine, DEMO)
    contracts = SqlContracts(engine)
    found = await contracts.match_contact(email="Kabinet@example.kz", phone="+77025550101")
    assert found is not None
    assert found.name == "Тіркеу ЖШС"
    assert await contracts.match_contact(email="kabinet@example.kz", phone="+77011234567") is None
    assert await contracts.match_contact(email="office@example.kz", phone="+77025550101") is None
    online = await contracts.match_contact(email="office@example.kz", phone="+7 701 123 4567")
    assert online is not None
    assert not await contracts.bought_online(email="kabinet@example.kz", phone="+77025550101")
