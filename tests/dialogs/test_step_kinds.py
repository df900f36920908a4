"""Step kinds the bg flow does not use, and the one-time code rules, at the engine level
(neutral events in, neutral replies out; state in an embedded SQLite store, CRM in SQL)."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dialogs.effects import SendOutgoing
from dialogs.engine import Engine
from dialogs.events import Contact, ConversationKey, Event, EventKind
from dialogs.flow import FlowRegistry
from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import ButtonKind
from dialogs.turn import Services
from storage.crm_import import load_crm
from storage.db import create_engine, migrate
from storage.records import SqlRecords
from storage.sql_state import SqlStateStore

FLOW = """
id: kinds
language: en
title: "Kinds"
start: phone
steps:
  phone:
    kind: phone
    text: "Your mobile?"
    region: BG
    next: consent
  consent:
    kind: consent
    text: "Do you agree?"
    accept: route
    decline: refused
  route:
    kind: branch
    cases:
      - {answer: phone_verified, op: set, next: pick}
    default: code
  code:
    kind: code
    channel: sms
    to: phone
    length: 8
    change: phone
    next: pick
  pick:
    kind: choose
    text: "Pick one"
    options:
      - {label: "Red", value: red, next: done}
      - {label: "Blue", value: blue, next: done}
  refused:
    kind: end
    text: "Without consent we cannot go on."
  done:
    kind: end
    text: "Done: {pick}"
"""
KEY = ConversationKey(1, 50, 50)
DEMO_CRM = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class EngineChat:
    engine: Engine
    catalogs: Catalogs
    clock: Clock
    sent: list[SendOutgoing] = field(default_factory=list)
    update_id: int = 0

    async def event(self, kind: EventKind, text: str = "", **extra: object) -> list[str]:
        self.update_id += 1
        event = Event(
            KEY, kind, text=text, update_id=self.update_id, sender_id=KEY.user_id, **extra
        )  # type: ignore[arg-type]
        outcome = await self.engine.handle(event)
        self.sent += [e for e in outcome.effects if isinstance(e, SendOutgoing)]
        self.last = outcome.replies
        return [render(r.text, self.catalogs, outcome.locale) for r in outcome.replies]

    async def send(self, text: str) -> list[str]:
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            return await self.event(EventKind.COMMAND, arg, command=name)
        return await self.event(EventKind.TEXT, text)

    async def press(self, data: str) -> list[str]:
        return await self.event(EventKind.BUTTON, data)

    def code(self) -> str:
        return str(self.sent[-1].message.params["code"])


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[EngineChat]:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "kinds.yaml").write_text(textwrap.dedent(FLOW), encoding="utf-8")
    db = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    await migrate(db)
    await load_crm(db, DEMO_CRM)
    catalogs, clock = Catalogs(), Clock()
    services = Services(SqlRecords(db), catalogs, clock, b"k" * 32)
    store = SqlStateStore(db, ttl_seconds=3600, clock=clock)
    engine = Engine(FlowRegistry.from_directory(tmp_path / "flows"), store, services)
    yield EngineChat(engine, catalogs, clock)
    await db.dispose()


async def test_phone_contact_must_be_the_senders_own(chat: EngineChat) -> None:
    await chat.send("/start")
    assert chat.last[-1].buttons[0].kind is ButtonKind.CONTACT
    foreign = Contact("+359881234567", user_id=KEY.user_id + 1)
    replies = await chat.event(EventKind.CONTACT, contact=foreign)
    assert "someone else's contact" in replies[0]
    own = Contact("359881234567", user_id=KEY.user_id)
    replies = await chat.event(EventKind.CONTACT, contact=own)
    assert replies == ["Thank you. Your number is +359 88 123 4567.", "Do you agree?"]
    assert chat.last[0].remove_keyboard
    await chat.press("s:consent:yes")  # verified by Telegram: no SMS needed
    assert chat.sent == []
    assert await chat.send("2") == ["Done: blue"]


async def test_typed_phone_gets_an_sms_code_with_the_rules(chat: EngineChat) -> None:
    await chat.send("/start")
    assert "for example" in (await chat.send("12"))[0]
    await chat.send("088 123 4567")
    assert (await chat.send("maybe"))[0] == "Please choose one of the buttons below."
    await chat.send("yes")
    message = chat.sent[-1].message
    assert (message.channel, message.to, len(chat.code())) == ("sms", "+359881234567", 8)
    first = chat.code()

    chat.clock.now += 59
    assert await chat.press("s:code:resend") == ["You can ask for a new code in 1 second."]
    wrong = "00000000" if first != "00000000" else "11111111"
    assert await chat.send(wrong) == ["That code is not right. You have 4 more tries."]
    chat.clock.now += 1
    assert await chat.press("s:code:resend") == ["A new code is on its way to +359 88 123 4567."]
    second = chat.code()
    assert await chat.send(wrong if wrong != second else "22222222") == [
        "That code is not right. You have 3 more tries."
    ]  # a resend keeps the failure count
    if first != second:
        assert "not right" in (await chat.send(first))[0]  # the old code died with the resend
    chat.clock.now += 599
    assert await chat.send(second) == ["Pick one"]  # accepted at 599 s


async def test_code_expires_after_ten_minutes_and_locks_after_five_failures(
    chat: EngineChat,
) -> None:
    await chat.send("/start")
    await chat.send("+359 88 123 4567")
    await chat.press("s:consent:yes")
    code = chat.code()
    chat.clock.now += 600
    assert await chat.send(code) == [
        "This code has expired. Please ask for a new code with the button below."
    ]
    chat.clock.now += 1
    await chat.press("s:code:resend")
    code = chat.code()
    wrong = "12345678" if code != "12345678" else "87654321"
    for _ in range(4):
        await chat.send(wrong)
    assert await chat.send(wrong) == [
        "Too many wrong codes. For your security, no new code can be sent for 30 minutes. "
        "A person from our team can help you sooner: press the button below."
    ]
    assert (await chat.send(code))[0].startswith("Too many wrong codes")  # 6th check refused


async def test_at_most_five_sends_per_ten_minutes(chat: EngineChat) -> None:
    await chat.send("/start")
    await chat.send("+359 88 123 4567")
    await chat.press("s:consent:yes")
    for _ in range(4):
        chat.clock.now += 60
        await chat.press("s:code:resend")
    chat.clock.now += 60
    replies = await chat.press("s:code:resend")
    assert replies[0].startswith("Too many codes were sent")
    assert len(chat.sent) == 5


async def test_change_number_goes_back_to_the_phone_step(chat: EngineChat) -> None:
    await chat.send("/start")
    await chat.send("+359 88 123 4567")
    await chat.press("s:consent:yes")
    assert await chat.press("s:code:change") == ["Your mobile?"]
    await chat.send("+359 88 765 4321")
    chat.clock.now += 60
    await chat.press("s:consent:yes")
    assert chat.sent[-1].message.to == "+359887654321"


async def test_back_to_fix_the_number_sends_a_new_code_and_the_old_one_is_dead(
    chat: EngineChat,
) -> None:
    await chat.send("/start")
    await chat.send("+359 88 123 4567")
    await chat.press("s:consent:yes")
    old = chat.code()
    assert (await chat.send("/back"))[-1] == "Do you agree?"
    assert (await chat.send("/back"))[-1] == "Your mobile?"
    await chat.send("+359 88 765 4321")
    chat.clock.now += 30
    assert await chat.press("s:consent:yes") == [
        "The code sent before no longer works. A new code to +359 88 765 4321 can be sent in "
        "30 seconds: then press the button below."
    ]
    assert (await chat.send(old))[0].startswith("That code was sent before you made the change")
    chat.clock.now += 30
    assert await chat.press("s:code:resend") == ["A new code is on its way to +359 88 765 4321."]
    assert [m.message.to for m in chat.sent] == ["+359881234567", "+359887654321"]
    new = chat.code()
    assert await chat.send(new) == ["Pick one"]


async def test_back_and_forth_to_the_same_number_does_not_send_again(chat: EngineChat) -> None:
    await chat.send("/start")
    await chat.send("+359 88 123 4567")
    await chat.press("s:consent:yes")
    await chat.send("/back")
    await chat.press("s:consent:yes")
    assert len(chat.sent) == 1


async def test_switching_numbers_cannot_pump_messages_out(chat: EngineChat) -> None:
    await chat.send("/start")
    for n in range(7):
        await chat.send(f"+359 88 765 43{n:02d}")
        replies = await chat.press("s:consent:yes")
        await chat.press("s:code:change")
        chat.clock.now += 60
    assert len(chat.sent) == 5  # the conversation's cap holds across numbers
    assert replies[0].startswith("Too many codes were sent")
    chat.clock.now += 600
    await chat.send("+359 88 765 4399")
    await chat.press("s:consent:yes")
    assert len(chat.sent) == 6


async def test_a_code_sent_before_the_number_changed_is_refused(chat: EngineChat) -> None:
    await chat.send("/start")
    for n in range(5):
        await chat.send(f"+359 88 765 43{n:02d}")
        await chat.press("s:consent:yes")
        await chat.press("s:code:change")
        chat.clock.now += 60
    last = chat.code()  # went to ...4304
    await chat.send("+359 88 000 0000")
    assert (await chat.press("s:consent:yes"))[0].startswith("Too many codes were sent")
    assert (await chat.send(last))[0].startswith("That code was sent before you made the change")


async def test_no_consent_ends_the_flow(chat: EngineChat) -> None:
    await chat.send("/start")
    await chat.send("+359 88 123 4567")
    assert await chat.send("No") == ["Without consent we cannot go on."]
    assert await chat.send("anything") == [
        "You have finished this conversation. Send /start to begin again or /help for help."
    ]


HANDOFF_FLOW = """
id: hand
language: en
title: "Hand"
start: page
steps:
  page:
    kind: handoff
    text: "Open the page"
    done: finished
  finished:
    kind: end
    text: "All set"
"""


async def test_a_signal_from_the_page_completes_the_hand_off(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "hand.yaml").write_text(textwrap.dedent(HANDOFF_FLOW), "utf-8")
    db = create_engine(f"sqlite:///{tmp_path / 'h.db'}")
    await migrate(db)
    clock = Clock()
    services = Services(SqlRecords(db), Catalogs(), clock, b"k" * 32)
    store = SqlStateStore(db, ttl_seconds=3600, clock=clock)
    chat = EngineChat(
        Engine(FlowRegistry.from_directory(tmp_path / "flows"), store, services), Catalogs(), clock
    )
    try:
        assert await chat.send("/start") == ["Open the page"]
        assert chat.last[0].buttons[0].kind is ButtonKind.LINK
        assert await chat.event(EventKind.SIGNAL, "handoff:other") == [
            "Please use the button above to continue on our secure page.",
            "Open the page",
        ]
        assert await chat.event(EventKind.SIGNAL, "handoff:password") == ["All set"]
        assert await chat.event(EventKind.SIGNAL, "handoff:password") == []  # nothing twice
    finally:
        await db.dispose()
