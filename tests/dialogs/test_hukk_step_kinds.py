"""The step kinds of the hu and kk flows at the engine level: policy_match, consent_check,
consent_record, callback, contact_match, notify, and the hu_policy validator."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dialogs.effects import Effect, RecordConsent, RecordHuman, SendOutgoing
from dialogs.engine import Engine
from dialogs.errors import ConfigError
from dialogs.events import ConversationKey, Event, EventKind
from dialogs.flow import FlowRegistry
from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.turn import Services
from dialogs.validators import Invalid, hu_policy
from storage.contracts import SqlContracts
from storage.crm_import import load_crm
from storage.db import create_engine, migrate
from storage.records import SqlRecords
from storage.sql_state import SqlStateStore

FLOWS = {
    "hu": """
        id: hu
        language: hu
        title: "hu"
        start: policy
        steps:
          policy: {kind: ask, text: "Policy?", validate: hu_policy, next: email}
          email: {kind: ask, text: "E-mail?", validate: email, next: match}
          match:
            {kind: policy_match, number: policy, email: email, holder: check,
             not_holder: other, not_found: none}
          check: {kind: consent_check, consent: e_communication, given: phone, missing: declare}
          declare:
            {kind: consent_record, consent: e_communication, text: "Recorded.", next: phone}
          other: {kind: end, text: "Not the holder."}
          none: {kind: end, text: "No match."}
          phone: {kind: ask, text: "Phone?", next: callback}
          callback:
            {kind: callback, question: phone, details: [phone, policy, missing], next: bye}
          bye: {kind: end, text: "Bye {customer_name}."}
    """,
    "kk": """
        id: kk
        language: kk
        title: "kk"
        start: email
        steps:
          email: {kind: ask, text: "E-mail?", validate: email, next: phone}
          phone: {kind: phone, text: "Phone?", region: KZ, next: match}
          match:
            {kind: contact_match, email: email, phone: phone, online: online, found: opened,
             not_found: none}
          online: {kind: end, text: "Already open."}
          none: {kind: end, text: "Check both."}
          opened:
            kind: notify
            text: "Opened for {phone}."
            send:
              - {channel: sms, to: phone, body: "SMS {phone}"}
              - {channel: email, to: email, subject: "Hi", body: "Mail {email}"}
              - {channel: email, to: nowhere, body: "never sent"}
            next: done
          done: {kind: end, text: "Done."}
    """,
}
KEY = ConversationKey(1, 60, 60)
DEMO_CRM = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"


@dataclass
class Chat:
    engine: Engine
    catalogs: Catalogs
    effects: list[Effect] = field(default_factory=list)
    update_id: int = 0

    async def send(self, text: str, kind: EventKind = EventKind.TEXT) -> list[str]:
        self.update_id += 1
        command = text[1:].partition(" ")[0] if text.startswith("/") else None
        argument = text.partition(" ")[2] if command else text
        event = Event(
            KEY,
            EventKind.COMMAND if command else kind,
            text=argument,
            command=command,
            update_id=self.update_id,
            sender_id=KEY.user_id,
        )
        outcome = await self.engine.handle(event)
        self.effects += outcome.effects
        return [render(r.text, self.catalogs, outcome.locale) for r in outcome.replies]


async def make_chat(tmp_path: Path, *, with_contracts: bool = True) -> tuple[Chat, SqlContracts]:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name, text in FLOWS.items():
        (flows / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    db = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    await migrate(db)
    await load_crm(db, DEMO_CRM)
    contracts = SqlContracts(db)
    catalogs = Catalogs()
    services = Services(
        SqlRecords(db),
        catalogs,
        lambda: 1_800_000_000.0,
        b"k" * 32,
        contracts=contracts if with_contracts else None,
    )
    store = SqlStateStore(db, ttl_seconds=3600)
    return Chat(Engine(FlowRegistry.from_directory(flows), store, services), catalogs), contracts


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    made, contracts = await make_chat(tmp_path)
    yield made
    await contracts._engine.dispose()


def test_hu_policy_numbers() -> None:
    assert hu_policy(" hu 2024 0001 ") == "HU-2024-0001"
    assert hu_policy("HU20240001") == "HU-2024-0001"
    assert hu_policy("HU-2024-123456") == "HU-2024-123456"
    for wrong in ("HU-2024-1", "DE-2024-0001", "HU-24-0001", "HU-2024-1234567", ""):
        with pytest.raises(Invalid):
            hu_policy(wrong)


async def test_declaration_recorded_then_callback_with_details(chat: Chat) -> None:
    await chat.send("/start hu")
    assert await chat.send("HU 2024 1") == [
        "A policy number looks like HU-2024-0001: HU, the year and four to six digits."
    ]
    await chat.send("hu-2024-0002")
    assert await chat.send("info@minta.example.hu") == ["Recorded.", "Phone?"]
    (consent,) = chat.effects
    assert isinstance(consent, RecordConsent)
    assert (consent.kind, consent.given_at) == ("e_communication", 1_800_000_000.0)
    assert await chat.send("+36 30 123 4567") == ["Bye Minta Bt.."]
    (request,) = [e for e in chat.effects if isinstance(e, RecordHuman)]
    assert (request.request.kind, request.request.reason) == ("callback", "+36 30 123 4567")
    assert request.request.details == {
        "phone": "+36 30 123 4567",
        "policy": "HU-2024-0002",
        "customer_id": str(consent.customer_id),
    }


async def test_declaration_given_skips_and_others_stop(chat: Chat) -> None:
    await chat.send("/start hu")
    await chat.send("HU-2024-0001")
    assert await chat.send("iroda@example.hu") == ["Phone?"]
    assert chat.effects == []
    await chat.send("/start hu")
    await chat.send("HU-2024-0003")
    assert await chat.send("szolgaltato@minta.example.hu") == ["Not the holder."]
    await chat.send("/start hu")
    await chat.send("HU-2024-0003")
    assert await chat.send("iroda@example.hu") == ["No match."]
    assert chat.effects == []


async def test_contact_match_online_found_and_not_found(chat: Chat) -> None:
    for email, phone, expected in [
        ("office@example.kz", "+7 701 123 4567", ["Already open."]),
        ("kabinet@example.kz", "+7 701 123 4567", ["Check both."]),
    ]:
        await chat.send("/start kk")
        await chat.send(email)
        assert (await chat.send(phone))[1:] == expected
    assert chat.effects == []
    await chat.send("/start kk")
    await chat.send("kabinet@example.kz")
    assert (await chat.send("+7 702 555 0101"))[1:] == ["Opened for +7 702 555 0101.", "Done."]
    sent = [e.message for e in chat.effects if isinstance(e, SendOutgoing)]
    assert [(m.channel, m.to, m.subject, m.body) for m in sent] == [
        ("sms", "+77025550101", "About your registration", "SMS {phone}"),
        ("email", "kabinet@example.kz", "Hi", "Mail {email}"),
    ]
    assert sent[0].params["phone"] == "+7 702 555 0101"  # shown as people write it


async def test_steps_without_contract_records_fail_loudly(tmp_path: Path) -> None:
    chat, contracts = await make_chat(tmp_path, with_contracts=False)
    await chat.send("/start hu")
    await chat.send("HU-2024-0001")
    with pytest.raises(ConfigError, match="contract records"):
        await chat.send("iroda@example.hu")
    await contracts._engine.dispose()
