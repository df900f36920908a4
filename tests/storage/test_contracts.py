"""Contracts, devices and consents from the CRM, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.contracts import SqlContracts
from storage.crm_import import load_crm, parse_crm
from storage.records import SqlRecords

from .records_fixtures import db_fixture, engine_fixture  # noqa: F401

DEMO = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"


async def pl_customer(engine: AsyncEngine) -> int:
    match = await SqlRecords(engine).match_customer(
        tax_scheme="pl_nip", tax_id="8567346215", email="biuro@example.pl"
    )
    assert match is not None
    return match.customer_id


async def test_number_and_device_must_sit_on_one_active_contract(engine: AsyncEngine) -> None:
    assert (await load_crm(engine, DEMO)).ok
    contracts = SqlContracts(engine)
    found = await contracts.find_contract(
        tax_scheme="pl_nip", tax_id="856-734-62-15", number="a123456", serial="fcw2231l0ab"
    )
    assert found is not None
    assert found.contract_number == "A123456"
    licence = await contracts.find_contract(
        tax_scheme="pl_nip", tax_id="8567346215", number="A123456", serial="ABCD-1234-EFGH-5678"
    )
    assert licence is not None
    for number, serial in [
        ("B654321", "SN-OLD-0001"),  # inactive contract
        ("A123456", "SN-OLD-0001"),  # device of another contract
        ("A123456", "ABCD1234EFGH5678"),  # licence key without its dashes
        ("Z999999", "FCW2231L0AB"),
    ]:
        assert (
            await contracts.find_contract(
                tax_scheme="pl_nip", tax_id="8567346215", number=number, serial=serial
            )
            is None
        )
    assert (
        await contracts.find_contract(
            tax_scheme="pl_nip", tax_id="1234567890", number="A123456", serial="FCW2231L0AB"
        )
        is None
    )


async def test_contract_list_with_device_lines(engine: AsyncEngine) -> None:
    await load_crm(engine, DEMO)
    listed = await SqlContracts(engine).contracts_of(await pl_customer(engine))
    assert [(c.number, c.active) for c in listed] == [("A123456", True), ("B654321", False)]
    assert [d.serial for d in listed[0].devices] == ["FCW2231L0AB", "ABCD-1234-EFGH-5678"]


async def test_online_policy_and_consents(engine: AsyncEngine) -> None:
    await load_crm(engine, DEMO)
    contracts = SqlContracts(engine)
    assert await contracts.bought_online(email="Office@example.kz", phone="+77011234567")
    assert not await contracts.bought_online(email="office@example.kz", phone="+77011234568")
    hu = await SqlRecords(engine).match_customer(
        tax_scheme="hu_tax", tax_id="12892312", email="iroda@example.hu"
    )
    assert hu is not None
    assert await contracts.has_consent(hu.customer_id, "e_communication")
    pl = await pl_customer(engine)
    assert not await contracts.has_consent(pl, "e_communication")
    await contracts.record_consent(pl, "e_communication", 1.0)
    await contracts.record_consent(pl, "e_communication", 2.0)
    assert await contracts.has_consent(pl, "e_communication")


async def test_reload_replaces_contracts(engine: AsyncEngine, tmp_path: Path) -> None:
    await load_crm(engine, DEMO)
    smaller = tmp_path / "crm.yaml"
    smaller.write_text(
        "customers:\n"
        "  - tax_id: '8567346215'\n    scheme: pl_nip\n    name: Przykład\n"
        "    emails: [biuro@example.pl]\n"
        "    contracts: [{number: C111111, product: X, devices: [{serial: S1, name: N}]}]\n",
        encoding="utf-8",
    )
    assert (await load_crm(engine, smaller)).ok
    listed = await SqlContracts(engine).contracts_of(await pl_customer(engine))
    assert [c.number for c in listed] == ["C111111"]


def test_bad_contract_rows_are_reported() -> None:
    _, errors = parse_crm(
        "customers:\n"
        "  - tax_id: '8567346215'\n    scheme: pl_nip\n    name: P\n"
        "    contracts: [{number: A1, product: X}, {number: a1, product: Y}]\n"
        "  - tax_id: '8567346215'\n    scheme: pl_nip\n    name: Q\n"
        "    contracts: [{number: A2}]\n"
        "  - tax_id: '12892312'\n    scheme: hu_tax\n    name: R\n    consents: [telepathy]\n"
    )
    assert [e.line for e in errors] == [2, 6, 10]
    assert "appears twice" in errors[0].reason
    assert "product" in errors[1].reason
    assert "consents" in errors[2].reason
