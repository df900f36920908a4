"""The hu reference flow (seed 001) through the Telegram transport, in Hungarian and English:
the declaration given or skipped, not the policyholder, wrong data, invalid formats, the
activation link, the password hand-off and the callback request. Also walked in the terminal
chat (``onboard chat``) on the demo CRM."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.web.links import add_link_routes
from bot.web.server import create_web_app
from dialogs import durations
from dialogs.commands import RESUME
from dialogs.flow import FLOWS_DIR, load_flow
from dialogs.i18n import DEFAULT_LOCALES_DIR, Catalogs
from dialogs.navigation import PREVIOUS_ANSWER
from dialogs.steps import code as code_step
from dialogs.steps import link as link_step
from dialogs.steps import phone as phone_step
from storage.contracts import SqlContracts
from storage.models import HumanRequestRow
from tests.bot.harness import RunningBot, running_bot
from tests.bot.test_bg_flow_telegram import open_hand_off_page, t
from tests.conftest import make_settings
from tests.notice import notice_text
from tests.test_cli import read_until, terminal_chat

FLOW_FILES = ("hu-insurance-portal.yaml", "kk-insurance-cabinet.yaml")
SOURCE = FLOWS_DIR
HU = SOURCE / "hu-insurance-portal.yaml"
SITE = "https://onboard.example.com"


def texts(path: Path) -> dict[str, Any]:
    """The flow file's steps, so the tests use the very texts the file holds (YAML folding)."""
    steps: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["steps"]
    return steps


STEPS = texts(HU)


def text(step: str, field: str = "text") -> str:
    return str(STEPS[step][field])


def label(step: str, value: str) -> str:
    return next(str(o["label"]) for o in STEPS[step]["options"] if o["value"] == value)


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def locales_for(tmp_path: Path) -> Path:
    """The real catalogs; until the lead extracts the hu/kk texts into the template, a copy
    with the missing texts added (English then), so the loader's template check passes."""
    known = Catalogs().template_ids
    missing: set[str] = set()
    for name in FLOW_FILES:
        missing |= load_flow(SOURCE / name).messages() - known
    if not missing:
        return DEFAULT_LOCALES_DIR
    target = tmp_path / "locales"
    shutil.copytree(DEFAULT_LOCALES_DIR, target)
    entries = "".join(f'\nmsgid {_quoted(m)}\nmsgstr ""\n' for m in sorted(missing))
    with (target / "messages.pot").open("a", encoding="utf-8") as pot:
        pot.write(entries)
    return target


def flows_for(tmp_path: Path) -> Path:
    """Only the hu and kk flows (the other flows' texts may not be in the template yet)."""
    target = tmp_path / "flows"
    target.mkdir()
    for name in FLOW_FILES:
        shutil.copy(SOURCE / name, target / name)
    return target


@asynccontextmanager
async def insurance_bot(
    tmp_path: Path, settings: Settings, **options: Any
) -> AsyncIterator[RunningBot]:
    """:func:`running_bot` with the hu and kk flows and catalogs that know their texts."""
    locales, flows = locales_for(tmp_path), flows_for(tmp_path)
    async with running_bot(settings, locales_dir=locales, flows_dir=flows, **options) as bot:
        yield bot


async def open_link(bot: RunningBot, url: str) -> int:
    """Open an e-mailed verification link as the customer's browser would."""
    web_app = create_web_app(bot.app.records, bot.app.catalogs, bot.app.clock)
    add_link_routes(web_app, bot.app.records, bot.app.catalogs, bot.app.clock, bot.transport.push)
    async with TestClient(TestServer(web_app)) as client:
        page = await client.get(url.removeprefix(SITE))
        return page.status


async def callback_requests(bot: RunningBot) -> list[tuple[str, str, dict[str, str] | None]]:
    query = select(HumanRequestRow.kind, HumanRequestRow.reason, HumanRequestRow.details)
    async with bot.app.db.connect() as connection:
        return [(k, r, d) for k, r, d in (await connection.execute(query)).all()]


async def walk_registration(bot: RunningBot, locale: str) -> None:
    """Not the policyholder, wrong data, invalid formats, /back, resume, the declaration given
    in the chat, the activation link and the password hand-off."""
    anna = bot.customer(language_code=locale)
    assert await anna.send("/start hu-insurance-portal") == [
        notice_text(locale),
        t(text("intro"), locale),
    ]
    assert await anna.press(t(label("intro", "register"), locale)) == [t(text("holder"), locale)]
    assert await anna.press(t(text("holder", "no_label"), locale)) == [t(text("who_can"), locale)]
    assert await anna.press(t(label("who_can", "holder"), locale)) == [t(text("policy"), locale)]

    # Invalid formats: the answer names what is expected and nothing is saved.
    assert await anna.send("HU 2024 1") == [t(text("policy", "invalid"), locale)]
    assert await anna.send("/start") == [t(RESUME, locale), t(text("policy"), locale)]
    assert await anna.send("hu 2024 0002") == [t(text("email"), locale)]
    assert await anna.send("info(at)minta") == [t(text("email", "invalid"), locale)]

    # Wrong data: one answer, nothing sent.
    assert await anna.send("someone@example.hu") == [t(text("no_match"), locale)]
    assert await anna.press(t(label("no_match", "retry"), locale)) == [t(text("policy"), locale)]

    # An insured company that is not the policyholder of its contract.
    await anna.send("HU-2024-0003")
    assert await anna.send("szolgaltato@minta.example.hu") == [t(text("not_holder"), locale)]
    await bot.app.effects.courier.drain()  # mails leave in the background
    assert bot.delivery.sent == []
    await anna.press(t(label("not_holder", "retry"), locale))

    # The policyholder, no declaration yet: step 0 is asked; /back goes to the e-mail.
    await anna.send("HU-2024-0002")
    assert await anna.send("info@minta.example.hu") == [t(text("declaration"), locale)]
    assert await anna.send("/back") == [
        t(PREVIOUS_ANSWER, locale, answer="info@minta.example.hu"),
        t(text("email"), locale),
    ]
    assert await anna.send("INFO@minta.example.hu") == [t(text("declaration"), locale)]
    live = bot.app.engine.services.live  # tests/crm walk this flow against a CRM over HTTP
    contracts = live.contracts if live else SqlContracts(bot.app.db)
    customer = await contracts.match_policy(number="HU-2024-0002", email="info@minta.example.hu")
    assert customer is not None
    assert not await contracts.has_consent(customer.customer_id, "e_communication")

    replies = await anna.press(t(text("declaration", "yes_label"), locale))
    address = "info@minta.example.hu"
    assert replies == [
        t(text("record_declaration"), locale),
        t(text("activate"), locale, address=address),
    ]
    assert await contracts.has_consent(customer.customer_id, "e_communication")
    await bot.app.effects.courier.drain()  # mails leave in the background
    ((mail, subject, _body),) = bot.delivery.sent
    assert (mail.to, subject) == (address, t(link_step.LINK_SUBJECT, locale))

    assert await anna.send("I have opened it") == [t(link_step.OPEN_THE_LINK, locale)]
    assert await open_link(bot, str(mail.params["url"])) == 200
    assert anna.read_new() == [t(text("password"), locale, minutes=durations.minutes(30))]
    await open_hand_off_page(bot, anna.link(), locale)


@pytest.mark.parametrize("locale", ["hu", "en"])
async def test_hu_registration_on_redis(tmp_path: Path, app_redis: str, locale: str) -> None:
    async with insurance_bot(tmp_path, make_settings(tmp_path, redis_url=app_redis)) as bot:
        await walk_registration(bot, locale)


@pytest.mark.parametrize("locale", ["hu", "en"])
async def test_hu_declaration_already_given_is_skipped(tmp_path: Path, locale: str) -> None:
    async with insurance_bot(tmp_path, make_settings(tmp_path)) as bot:
        peter = bot.customer(language_code=locale)
        await peter.send("/start hu-insurance-portal")
        await peter.press(t(label("intro", "register"), locale))
        await peter.press(t(text("holder", "yes_label"), locale))
        await peter.send("HU-2024-0001")
        assert await peter.send("iroda@example.hu") == [
            t(text("already_declared"), locale),
            t(text("activate"), locale, address="iroda@example.hu"),
        ]
        change = t(code_step.CHANGE_EMAIL, locale)
        assert await peter.press(change) == [t(text("email"), locale)]
        assert await peter.send("iroda@example.hu") == [
            t(text("already_declared"), locale),
            t(text("activate"), locale, address="iroda@example.hu"),
        ]
        await bot.app.effects.courier.drain()  # mails leave in the background
        assert len(bot.delivery.sent) == 1  # the same address: its live link still works


@pytest.mark.parametrize("locale", ["hu", "en"])
async def test_hu_callback_request_is_recorded(tmp_path: Path, locale: str) -> None:
    async with insurance_bot(tmp_path, make_settings(tmp_path)) as bot:
        zoli = bot.customer(language_code=locale)
        await zoli.send("/start hu-insurance-portal")
        asked = await zoli.press(t(label("intro", "question"), locale))
        assert asked == [t(text("callback_phone"), locale)]
        assert await zoli.send("12") == [
            t(text("callback_phone", "invalid"), locale, example="+36 30 123 4567")
        ]
        assert await zoli.share_contact("+36 30 999 8888", own=False) == [
            t(phone_step.NOT_YOURS, locale)
        ]
        assert await zoli.send("06 30 123 4567") == [
            t(phone_step.GOT_IT, locale, phone="+36 30 123 4567"),
            t(text("question"), locale),
        ]
        assert await zoli.send("x" * 201) == [t(text("question", "invalid"), locale)]
        question = "Can I cancel my home insurance before it ends?"
        assert await zoli.send(question) == [
            t(text("callback_done"), locale, callback_phone="+36 30 123 4567")
        ]
        ((kind, reason, details),) = await callback_requests(bot)
        assert (kind, reason) == ("callback", question)
        assert details == {"callback_phone": "+36301234567", "question": question}
        await bot.app.effects.courier.drain()  # mails leave in the background
        assert bot.delivery.sent == []


def demo_chat(flow: str, language: str) -> tuple[str, ...]:
    return ("--demo", "--fresh", "--flow", flow, "--lang", language)


async def type_lines(process: asyncio.subprocess.Process, *lines: str) -> None:
    assert process.stdin is not None
    process.stdin.write("".join(f"{line}\n" for line in lines).encode())
    await process.stdin.drain()


async def test_terminal_chat_walks_the_hu_flow_on_demo_data(tmp_path: Path) -> None:
    async with terminal_chat(tmp_path, *demo_chat("hu-insurance-portal", "hu")) as (process, site):
        assert process.stdout is not None
        await type_lines(process, "1", "1", "HU-2024-0001", "iroda@example.hu")
        url = await read_until(process.stdout, re.compile(r"(http://127\.0\.0\.1:\d+/verify/\S+)"))
        async with aiohttp.ClientSession() as session, session.get(url) as page:
            assert page.status == 200
        password = re.compile(rf"\[1\] .* → ({re.escape(site)}/password/\S+)")
        assert (await read_until(process.stdout, password)).startswith(f"{site}/password/")
        assert process.stdin is not None
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), 30) == 0
