"""The ``contract_match`` and ``contract_list`` step kinds against contract records in SQL
(SQLite, loaded from the demo CRM plus a CRM with hostile text), one turn at a time."""

from __future__ import annotations

import html
import textwrap
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from dialogs.errors import ConfigError, FlowLoadError
from dialogs.events import ConversationKey
from dialogs.flow import load_flow
from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import say_n
from dialogs.state import ConversationState
from dialogs.steps.contract_verify import (
    ACTIVE_CONTRACT,
    INACTIVE_CONTRACT,
    MORE_CONTRACTS,
    NO_CONTRACTS,
    NO_DEVICES,
    ContractList,
    ContractMatch,
)
from dialogs.turn import Services, Turn
from storage.contracts import SqlContracts
from storage.crm_import import load_crm
from storage.db import create_engine, migrate
from storage.records import SqlRecords

DEMO_CRM = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"
HOSTILE_CRM = """
customers:
  - tax_id: "5250000015"
    scheme: pl_nip
    name: "Hostile <i>Sp. z o.o.</i>"
    emails: [x@example.pl]
    contracts:
      - number: H000001
        product: "<script>alert(1)</script> & Co"
        devices:
          - {serial: ser-1, name: "<b>bold</b> & {number}"}
      - {number: H000002, product: Empty}
      - number: H000003
        product: Old
        active: false
        devices:
          - {serial: SER-3, name: old}
"""
KEY = ConversationKey(1, 9, 9)
CATALOGS = Catalogs()


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    db = create_engine(f"sqlite:///{tmp_path / 'contracts.db'}")
    await migrate(db)
    await load_crm(db, DEMO_CRM)
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(HOSTILE_CRM, encoding="utf-8")
    report = await load_crm(db, hostile)
    assert report.errors == []
    yield Services(SqlRecords(db), CATALOGS, lambda: 0.0, b"k" * 32, contracts=SqlContracts(db))
    await db.dispose()


def turn_with(services: Services, **answers: str) -> Turn:
    return Turn(KEY, ConversationState(answers=dict(answers)), None, services, 0.0)


def matcher(max_failures: int = 3) -> ContractMatch:
    options = ContractMatch.Options(
        kind="contract_match",
        scheme="pl_nip",
        tax_id="nip",
        number="contract",
        serial="serial",
        max_failures=max_failures,
        found="list",
        not_found="again",
        too_many="locked",
    )
    return ContractMatch("check", options)


def lister(**options: object) -> ContractList:
    values: dict[str, object] = {"kind": "contract_list", "text": "Yours:", "next": "done"}
    return ContractList("list", ContractList.Options.model_validate({**values, **options}))


def words(turn: Turn, locale: str = "en") -> list[str]:
    escape = lambda value: html.escape(value, quote=False)  # noqa: E731 - as the transport does
    return [render(reply.text, CATALOGS, locale, escape) for reply in turn.replies]


async def test_all_three_on_one_active_contract_are_found(services: Services) -> None:
    turn = turn_with(services, nip="8567346215", contract="A123456", serial="ABCD-1234-EFGH-5678")
    assert await matcher().enter(turn) == "list"
    assert turn.state.answers["check"] == "A123456"
    assert turn.state.customer_id is not None
    assert turn.replies == []


@pytest.mark.parametrize(
    ("nip", "contract", "serial"),
    [
        ("8567346215", "A123456", "SN-OLD-0001"),  # a device of another contract
        ("8567346215", "B654321", "SN-OLD-0001"),  # an inactive contract
        ("8567346215", "A123456", "JPE2041X0YZ"),  # a device of another taxpayer
        ("7770000028", "A123456", "FCW2231L0AB"),  # another taxpayer's contract
        ("8567346215", "A999999", "FCW2231L0AB"),  # an unknown contract number
        ("8567346216", "A123456", "FCW2231L0AB"),  # a NIP with a wrong check digit
    ],
)
async def test_every_mismatch_is_the_same_not_found(
    services: Services, nip: str, contract: str, serial: str
) -> None:
    turn = turn_with(services, nip=nip, contract=contract, serial=serial)
    assert await matcher().enter(turn) == "again"
    assert "check" not in turn.state.answers
    assert turn.state.customer_id is None
    assert turn.replies == []


async def test_too_many_mismatches_block_even_the_right_details(services: Services) -> None:
    step = matcher(max_failures=3)
    turn = turn_with(services, nip="8567346215", contract="A123456", serial="WRONG-1")
    assert [await step.enter(turn) for _ in range(3)] == ["again", "again", "locked"]
    turn.state.answers["serial"] = "FCW2231L0AB"
    assert await step.enter(turn) == "locked"
    assert "check" not in turn.state.answers


async def test_a_success_forgets_earlier_mismatches(services: Services) -> None:
    step = matcher(max_failures=2)
    turn = turn_with(services, nip="8567346215", contract="A123456", serial="WRONG-1")
    assert await step.enter(turn) == "again"
    turn.state.answers["serial"] = "FCW2231L0AB"
    assert await step.enter(turn) == "list"
    turn.state.answers["serial"] = "WRONG-2"
    assert await step.enter(turn) == "again"  # not "locked": the count started over


async def test_the_contract_must_belong_to_the_customer_the_flow_identified(
    services: Services,
) -> None:
    first = turn_with(services, nip="8567346215", contract="A123456", serial="FCW2231L0AB")
    assert await matcher().enter(first) == "list"
    other = turn_with(services, nip="5250000015", contract="H000001", serial="SER-1")
    other.state.customer_id = first.state.customer_id
    assert await matcher().enter(other) == "again"


async def test_the_list_escapes_crm_text_and_names_contracts_without_devices(
    services: Services,
) -> None:
    turn = turn_with(services, nip="5250000015", contract="h000001", serial="ser-1")
    assert await matcher().enter(turn) == "list"
    assert await lister().enter(turn) == "done"
    assert words(turn) == [
        "Yours:",
        "Contract <b>H000001</b>: &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co, active.\n"
        "Devices:\n• SER-1 — &lt;b&gt;bold&lt;/b&gt; &amp; {number}",  # no placeholder filled twice
        "Contract <b>H000002</b>: Empty, active.\nDevices:\n(no devices on this contract)",
        "Contract <b>H000003</b>: Old, inactive.\nDevices:\n• SER-3 — old",
    ]


async def test_the_list_in_polish_only_active(services: Services) -> None:
    turn = turn_with(services, nip="5250000015", contract="H000001", serial="SER-1")
    turn.state.locale = "pl"
    await matcher().enter(turn)
    await lister(only_active=True).enter(turn)
    listed = words(turn, "pl")
    assert len(listed) == 3  # the heading and the two active contracts
    assert listed[2].endswith("\n" + CATALOGS.gettext(NO_DEVICES, "pl"))
    assert CATALOGS.gettext(NO_DEVICES, "pl") != NO_DEVICES
    assert listed[1].startswith(CATALOGS.gettext(ACTIVE_CONTRACT, "pl").split("{")[0])


async def test_a_long_list_is_cut_and_says_how_many_more(services: Services) -> None:
    turn = turn_with(services, nip="5250000015", contract="H000001", serial="SER-1")
    await matcher().enter(turn)
    await lister(limit=1).enter(turn)
    assert words(turn)[2:] == ["There are 2 more contracts on your account."]
    turn.replies.clear()
    await lister(limit=1, only_active=True).enter(turn)
    assert words(turn)[2:] == ["There is 1 more contract on your account."]
    assert turn.replies[2].text == say_n(MORE_CONTRACTS, 1)


async def test_no_customer_no_contracts(services: Services) -> None:
    turn = turn_with(services)
    assert await lister().enter(turn) == "done"
    assert words(turn) == ["Yours:", NO_CONTRACTS]


async def test_without_contract_records_the_steps_say_what_is_missing(
    services: Services,
) -> None:
    turn = turn_with(services, nip="8567346215", contract="A123456", serial="FCW2231L0AB")
    turn.services = replace(services, contracts=None)
    with pytest.raises(ConfigError, match="'check' needs the contract records"):
        await matcher().enter(turn)


FLOW = """
id: contracts-test
language: pl
title: "Contracts"
start: contract
steps:
  contract:
    kind: ask
    text: "Contract?"
    next: check
  check:
    kind: contract_match
    scheme: pl_nip
    tax_id: nip
    number: contract
    serial: contract
    found: list
    not_found: contract
    too_many: {too_many}
  list:
    kind: contract_list
    text: "Yours:"
    next: contract
"""


def test_flow_files_name_the_targets_and_texts_of_both_kinds(tmp_path: Path) -> None:
    path = tmp_path / "contracts-test.yaml"
    path.write_text(textwrap.dedent(FLOW).replace("{too_many}", "list"), encoding="utf-8")
    flow = load_flow(path)
    assert {ACTIVE_CONTRACT, INACTIVE_CONTRACT, NO_DEVICES, NO_CONTRACTS} <= flow.messages()
    path.write_text(textwrap.dedent(FLOW).replace("{too_many}", "nowhere"), encoding="utf-8")
    with pytest.raises(FlowLoadError, match="step 'check': too_many leads to unknown step"):
        load_flow(path)
