"""The pl reference flow (seed 004), end to end through the Telegram transport, in Polish and
English: the registration form, the verification link read out of a mail that a real SMTP server
on loopback received and opened over HTTP (the same conversation continues), the password page,
the contract verification and the contract list. State in the real Redis.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.web import links
from bot.web.links import add_link_routes
from bot.web.server import serving, web_app_for
from dialogs import durations
from dialogs.flow import FLOWS_DIR, load_flow
from dialogs.steps import code as code_step
from dialogs.steps import contract_verify as contract_steps
from dialogs.steps import link as link_step
from dialogs.validators import DEFAULT_INVALID, NIP_CHECK_DIGIT
from tests.bot.harness import Customer, RunningBot
from tests.bot.test_bg_flow_telegram import t
from tests.conftest import make_settings
from tests.delivery.harness import Clock, delivering_bot
from tests.delivery.servers import Mailbox, smtp_server
from tests.notice import notice_text
from tests.test_cli import lines_until, terminal_chat
from tests.web.helpers import base_url
from tests.web.test_pages_http import browser, form_csrf, post

FLOW = load_flow(FLOWS_DIR / "pl-support-contracts.yaml")
PUBLIC = "https://onboard.example.com"
VERIFY_LINK = re.compile(re.escape(PUBLIC) + r"(/verify/[A-Za-z0-9_-]+)")
PASSWORD = "Quiet-Harbour-2024"
DAY = 86_400
LOCALES = ["pl", "en"]


def text_of(step: str, field: str = "text") -> str:
    """A message id of the shipped flow file (compared through the catalogs)."""
    value = getattr(FLOW.steps[step].options, field)
    assert isinstance(value, str)
    return value


def label_of(step: str, value: str) -> str:
    options = FLOW.steps[step].options.options  # type: ignore[attr-defined]
    return next(choice.label for choice in options if choice.value == value)


@dataclass
class PlBed:
    """The bot with real mail delivery, and its web pages served on loopback."""

    bot: RunningBot
    mailbox: Mailbox
    clock: Clock
    web: str
    session: aiohttp.ClientSession

    async def mails(self) -> int:
        await self.bot.app.effects.courier.drain()
        return len(self.mailbox.mails)

    async def newest_link(self) -> str:
        await self.bot.app.effects.courier.drain()
        found = VERIFY_LINK.search(self.mailbox.parts()[0])
        assert found is not None, self.mailbox.parts()[0]
        return found.group(1)

    async def open(self, path: str) -> tuple[int, str]:
        async with self.session.get(self.web + path) as response:
            return response.status, await response.text()

    async def set_password(self, customer: Customer) -> None:
        url = self.web + customer.link().removeprefix(PUBLIC)
        csrf = await form_csrf(self.session, url)
        status, page = await post(self.session, url, password=PASSWORD, confirm=PASSWORD, csrf=csrf)
        assert status == 200, page


@asynccontextmanager
async def pl_bed(tmp_path: Path, redis_url: str, **extra: Any) -> AsyncIterator[PlBed]:
    clock = Clock()
    async with smtp_server(Mailbox()) as mailbox:
        settings = make_settings(
            tmp_path,
            redis_url=redis_url,
            default_flow="pl-support-contracts",
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_security="none",
            **extra,
        )
        async with delivering_bot(settings, clock) as bot:
            web_app = web_app_for(bot.app, bot.transport.push)
            add_link_routes(
                web_app, bot.app.records, bot.app.catalogs, bot.app.clock, bot.transport.push
            )
            async with serving(web_app, "127.0.0.1", 0) as runner, browser() as session:
                assert runner is not None
                yield PlBed(bot, mailbox, clock, base_url(runner), session)


async def fill_in_the_form(
    customer: Customer, locale: str, email: str, phone: str, nip: str
) -> list[str]:
    assert await customer.send(email) == [t(text_of("phone"), locale)]
    assert await customer.send(phone) == [t(text_of("nip"), locale)]
    return await customer.send(nip)


async def register(bed: PlBed, customer: Customer, locale: str, *details: str) -> None:
    """The registration happy path, up to the contract number question."""
    await customer.send("/start")
    await fill_in_the_form(customer, locale, *details)
    status, _ = await bed.open(await bed.newest_link())
    assert status == 200
    customer.read_new()
    await bed.set_password(customer)
    assert customer.read_new() == [t(text_of("contract"), locale)]


def contract_text(locale: str, number: str, product: str, *devices: str, active: bool) -> str:
    template = contract_steps.ACTIVE_CONTRACT if active else contract_steps.INACTIVE_CONTRACT
    lines = "\n".join(f"• {device}" for device in devices)
    return t(template, locale, number=number, product=product, devices=lines)


@pytest.mark.parametrize("locale", LOCALES)
async def test_pl_flow_registration_link_password_and_licence_key(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with pl_bed(tmp_path, app_redis) as bed:
        alice = bed.bot.customer(language_code=locale)
        await walk_registration_errors(bed, alice, locale)
        await walk_the_verification_link(bed, alice, locale)
        await walk_contract_errors_then_licence_key(bed, alice, locale)


async def walk_registration_errors(bed: PlBed, alice: Customer, locale: str) -> None:
    assert await alice.send("/start") == [
        t(text_of("intro"), locale),
        notice_text(locale),
        t(text_of("email"), locale),
    ]
    assert await alice.send("biuro(at)example.pl") == [t(DEFAULT_INVALID["email"], locale)]
    assert await alice.send("biuro@example.pl") == [t(text_of("phone"), locale)]
    phone_invalid = [t(DEFAULT_INVALID["pl_phone"], locale)]
    assert await alice.send("+48221234567") == phone_invalid  # with the country code
    assert await alice.send("22123456") == phone_invalid  # 8 digits
    assert await alice.send("601234567") == [t(text_of("nip"), locale)]
    nip_invalid = [t(DEFAULT_INVALID["pl_nip"], locale)]
    assert await alice.send("856-734-62") == nip_invalid  # 8 digits
    assert await alice.send("8567346216") == [t(NIP_CHECK_DIGIT, locale)]  # wrong check digit

    # The phone is not the one on record: one answer for every mismatch, and nothing is sent.
    no_match = [t(text_of("no_match"), locale)]
    assert await alice.send("8567346215") == no_match
    assert await alice.press(t(label_of("no_match", "retry"), locale)) == [
        t(text_of("email"), locale)
    ]
    assert await fill_in_the_form(
        alice, locale, "nobody@example.pl", "221234567", "8567346215"
    ) == (no_match)  # an e-mail not on record
    assert await bed.mails() == 0
    await alice.press(t(label_of("no_match", "retry"), locale))
    replies = await fill_in_the_form(alice, locale, "Biuro@Example.pl", "221 234 567", "8567346215")
    assert replies == [t(text_of("verify_email"), locale, address="biuro@example.pl")]
    assert [b["text"] for b in alice.keyboard] == [
        t(link_step.RESEND_LINK, locale),
        t(code_step.CHANGE_EMAIL, locale),
    ]


async def walk_the_verification_link(bed: PlBed, alice: Customer, locale: str) -> None:
    first = await bed.newest_link()
    (mail,) = bed.mailbox.mails
    assert mail["To"] == "biuro@example.pl"
    assert mail["Subject"] == t(link_step.LINK_SUBJECT, locale)
    assert await alice.send("I clicked it") == [t(link_step.OPEN_THE_LINK, locale)]

    bed.clock.now += 60
    await alice.press(t(link_step.RESEND_LINK, locale))
    second = await bed.newest_link()
    assert second != first
    status, _ = await bed.open(first)  # an older link: refused in the chat, nothing continues
    assert status == 200
    assert alice.read_new() == [
        t(link_step.OLD_LINK, locale),
        t(text_of("verify_email"), locale, address="biuro@example.pl"),
    ]

    bed.clock.now += DAY  # the newest link has expired too
    status, page = await bed.open(second)
    assert status == 410
    assert t(links.VERIFY_EXPIRED, locale) in page
    assert alice.read_new() == []
    await alice.press(t(link_step.RESEND_LINK, locale))
    third = await bed.newest_link()

    status, page = await bed.open(third)  # opening it continues this same conversation
    assert status == 200
    assert t(links.VERIFIED, locale) in page
    assert alice.read_new() == [t(text_of("password"), locale, minutes=durations.minutes(30))]
    assert alice.link().startswith(f"{PUBLIC}/password/")
    status, page = await bed.open(third)
    assert (status, t(links.VERIFY_USED, locale) in page) == (410, True)
    status, _ = await bed.open("/verify/" + "x" * 32)
    assert status == 404

    await bed.set_password(alice)  # the hand-off: no password ever travels by mail or chat
    assert alice.read_new() == [t(text_of("contract"), locale)]
    assert await bed.mails() == 3
    assert all(PASSWORD not in "".join(bed.mailbox.parts(i)) for i in range(3))


async def walk_contract_errors_then_licence_key(bed: PlBed, alice: Customer, locale: str) -> None:
    mismatch = [t(text_of("mismatch"), locale)]
    fix_contract = t(label_of("mismatch", "contract"), locale)
    fix_serial = t(label_of("mismatch", "serial"), locale)
    assert await alice.send("A12345") == [t(DEFAULT_INVALID["contract_number"], locale)]
    assert await alice.send("AB123456") == [t(DEFAULT_INVALID["contract_number"], locale)]
    assert await alice.send("A123456") == [t(text_of("serial"), locale)]
    assert await alice.send("?") == [t(DEFAULT_INVALID["serial"], locale)]
    assert await alice.send("JPE2041X0YZ") == mismatch  # a device of another NIP
    assert [b["text"] for b in alice.keyboard] == [
        fix_contract,
        fix_serial,
        t(label_of("mismatch", "human"), locale),
    ]
    assert await alice.press(fix_serial) == [t(text_of("serial"), locale)]
    assert await alice.send("SN-OLD-0001") == mismatch  # a device of another contract
    assert await alice.press(fix_contract) == [t(text_of("contract"), locale)]
    assert await alice.send("b 654 321") == mismatch  # its own device, but inactive

    # Typo recovery: only the serial is typed again; the contract number is kept.
    assert await alice.press(fix_contract) == [t(text_of("contract"), locale)]
    assert await alice.send("A123456") == mismatch
    assert await alice.press(fix_serial) == [t(text_of("serial"), locale)]
    assert await alice.send("abcd-1234-efgh-5678") == [
        t(text_of("contracts"), locale),
        contract_text(
            locale,
            "A123456",
            "Support Premium",
            "FCW2231L0AB — Router C9200 (server room)",
            "ABCD-1234-EFGH-5678 — Backup Suite licence",
            active=True,
        ),
        contract_text(locale, "B654321", "Support Basic", "SN-OLD-0001 — Old switch", active=False),
        t(text_of("finished"), locale, email="biuro@example.pl"),
    ]


@pytest.mark.parametrize("locale", LOCALES)
async def test_pl_flow_serial_of_one_active_contract_and_escaped_crm_text(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with pl_bed(tmp_path, app_redis) as bed:
        bob = bed.bot.customer(user_id=77, language_code=locale)
        await register(bed, bob, locale, "it@techno-serwis.example.pl", "601234567", "7770000028")
        mismatch = [t(text_of("mismatch"), locale)]
        fix_contract = t(label_of("mismatch", "contract"), locale)
        fix_serial = t(label_of("mismatch", "serial"), locale)

        assert await bob.send("E500600") == [t(text_of("serial"), locale)]
        assert await bob.send("LIC-9F3A-77B2-QQ10") == mismatch  # an inactive contract
        assert await bob.press(fix_contract) == [t(text_of("contract"), locale)]
        assert await bob.send("C100200") == mismatch  # the licence is not on C100200
        assert await bob.press(fix_serial) == [t(text_of("serial"), locale)]
        assert await bob.send("JPE2041X0YZ") == mismatch  # on the other ACTIVE contract
        assert await bob.press(fix_serial) == [t(text_of("serial"), locale)]
        replies = await bob.send("FGT60F-TK2109")
        assert replies == [
            t(text_of("contracts"), locale),
            contract_text(
                locale,
                "C100200",
                "Support 24/7 & On-site",
                "FGT60F-TK2109 — Firewall <head office>",
                active=True,
            ),
            contract_text(
                locale,
                "D300400",
                "Support Standard",
                "JPE2041X0YZ — Switch EX2300 (warehouse)",
                active=True,
            ),
            contract_text(
                locale,
                "E500600",
                "Support Basic",
                "LIC-9F3A-77B2-QQ10 — Monitoring licence",
                active=False,
            ),
            t(text_of("finished"), locale, email="it@techno-serwis.example.pl"),
        ]
        # CRM text reaches Telegram's HTML escaped; only the template's own tags stay.
        assert "Support 24/7 &amp; On-site" in replies[1]
        assert "Firewall &lt;head office&gt;" in replies[1]
        assert replies[1].count("<b>") == 1


async def test_pl_flow_translations_differ_from_english() -> None:
    for step in ("intro", "email", "phone", "nip", "verify_email", "contract", "mismatch"):
        assert t(text_of(step), "pl") != text_of(step), step
    assert t(contract_steps.NO_DEVICES, "pl") != contract_steps.NO_DEVICES


async def test_pl_flow_walks_in_the_terminal_chat_on_the_demo_data(tmp_path: Path) -> None:
    """``onboard chat`` as a person runs it: the mail is printed, the link and the password
    page are opened over HTTP on the pages the terminal chat serves."""
    chat = ("--demo", "--fresh", "--flow", FLOW.id, "--lang", "pl")
    async with terminal_chat(tmp_path, *chat) as (process, _site):
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(b"biuro@example.pl\n221234567\n8567346215\n")
            seen = await lines_until(process.stdout, r"http://127\.0\.0\.1:\d+/verify/\S+")
            verify = re.findall(r"http://\S+/verify/\S+", "".join(seen))[-1]
            async with browser() as session:
                async with session.get(verify) as response:
                    assert response.status == 200
                seen = await lines_until(process.stdout, r"→ http://\S+/password/\S+")
                password = re.findall(r"→ (http://\S+/password/\S+)", "".join(seen))[-1]
                csrf = await form_csrf(session, password)
                form = {"password": PASSWORD, "confirm": PASSWORD, "csrf": csrf}
                assert (await post(session, password, **form))[0] == 200
            await lines_until(process.stdout, re.escape(plain(t(text_of("contract"), "pl"))))
            process.stdin.write(b"A123456\nFCW2231L0AB\n")
            finished = t(text_of("finished"), "pl", email="biuro@example.pl")
            seen = await lines_until(process.stdout, re.escape(finished))
            listing = "".join(seen)
            assert plain(t(text_of("contracts"), "pl")) in listing
            assert "A123456" in listing
            assert "• FCW2231L0AB — Router C9200 (server room)" in listing
            assert "B654321" in listing
        finally:
            process.stdin.close()
            assert await asyncio.wait_for(process.wait(), 30) == 0


def plain(text: str) -> str:
    """What the terminal prints of a Telegram HTML text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.stumbles
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "nip", ["856-734-62-15", "856 734 62 15", "PL 8567346215", "８５６７３４６２１５"]
)
async def test_a_nip_with_dashes_spaces_or_full_width_digits_matches_the_crm(
    tmp_path: Path, app_redis: str, locale: str, nip: str
) -> None:
    """Issue 17, item 11: the chat accepts what the CRM import accepts (one normalisation), and
    full-width digits match the record instead of failing quietly; a wrong check digit is
    named as such."""
    async with pl_bed(tmp_path, app_redis) as bed:
        alice = bed.bot.customer(language_code=locale)
        await alice.send("/start")
        wrong = nip[:-1] + ("6" if nip[-1] in "5５" else "5")
        wrong_digit = [t(NIP_CHECK_DIGIT, locale)]
        assert await fill_in_the_form(alice, locale, "biuro@example.pl", "221234567", wrong) == (
            wrong_digit
        )
        assert await alice.send(nip) == [
            t(text_of("verify_email"), locale, address="biuro@example.pl")
        ]
        assert await bed.mails() == 1
