"""The hu, kk, de and pl reference flows over WhatsApp, each in its own language (the number's
country picks it: +36, +7 7…, +49, +48) and in English, through the real webhook: signed POSTs
in, Cloud API messages out, the web pages over HTTP on the same server.

What only WhatsApp does is checked on the way: the kk flow's "own contact" is the number the
customer writes from ("Use this number"), someone else's shared card is refused; links are CTA
URL buttons; our <b> is WhatsApp's *bold* (pl's contract list)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.web.links import issue_invitation
from dialogs import durations
from dialogs.flow import FLOWS_DIR, load_flow
from dialogs.replies import Text
from dialogs.steps import code as code_step
from dialogs.steps import contract_verify as contract_steps
from dialogs.steps import handoff
from dialogs.steps import link as link_step
from dialogs.steps import phone as phone_step
from dialogs.steps.phone import GOT_IT
from dialogs.validators import DEFAULT_INVALID
from storage.invitations import SqlInvitations
from storage.profiles import SqlProfiles
from tests.delivery.harness import Clock
from tests.notice import notice_text
from tests.whatsapp.harness import RunningWhatsApp, WaCustomer, running_whatsapp, wa

pytestmark = pytest.mark.whatsapp
HU, KK = (
    load_flow(FLOWS_DIR / "hu-insurance-portal.yaml"),
    load_flow(FLOWS_DIR / "kk-insurance-cabinet.yaml"),
)
DE, PL = (
    load_flow(FLOWS_DIR / "de-video-consultation.yaml"),
    load_flow(FLOWS_DIR / "pl-support-contracts.yaml"),
)
SITE = "https://onboard.example.com"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
SHOWN_PIN = re.compile(r'id="pin-value">(\d+)<')
PASSWORD = "Quiet-Harbour-42x"


def of(flow: Any, step: str, field: str = "text") -> str:
    value = getattr(flow.steps[step].options, field)
    assert isinstance(value, str)
    return value


def label(flow: Any, step: str, value: str) -> str:
    return next(c.label for c in flow.steps[step].options.options if c.value == value)


def shown(text: str) -> str:
    """A notice as WhatsApp shows it."""
    from bot.channels.whatsapp.format import to_whatsapp

    return to_whatsapp(text)


async def page(bot: RunningWhatsApp, url: str) -> tuple[int, str]:
    async with bot.http.get(bot.url.replace("/whatsapp/webhook", url.removeprefix(SITE))) as got:
        return got.status, await got.text()


async def form(bot: RunningWhatsApp, url: str, **fields: str) -> tuple[int, str]:
    target = bot.url.replace("/whatsapp/webhook", url.removeprefix(SITE))
    async with bot.http.post(target, data=fields) as answer:
        return answer.status, await answer.text()


async def set_password(bot: RunningWhatsApp, customer: WaCustomer) -> list[str]:
    link = customer.link()
    status, html = await page(bot, link)
    assert status == 200
    match = CSRF.search(html)
    assert match is not None
    fields = {"password": PASSWORD, "confirm": PASSWORD, "csrf": match.group(1)}
    status, html = await form(bot, link, **fields)
    assert status == 200, html
    return customer.read_new()


# -- hu -------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["hu", "en"])
async def test_hu_flow_over_whatsapp(tmp_path: Path, app_redis: str, locale: str) -> None:
    async with running_whatsapp(tmp_path, redis_url=app_redis) as bot:
        anna = bot.customer(locale, None if locale == "hu" else "447700900201")
        assert await anna.send("/start hu-insurance-portal") == [
            shown(notice_text(locale)),
            wa(of(HU, "intro"), locale),
        ]
        assert await anna.press(wa(label(HU, "intro", "register"), locale)) == [
            wa(of(HU, "holder"), locale)
        ]
        assert await anna.press(wa(of(HU, "holder", "yes_label"), locale)) == [
            wa(of(HU, "policy"), locale)
        ]
        assert await anna.send("HU 2024 1") == [wa(of(HU, "policy", "invalid"), locale)]
        assert await anna.send("hu 2024 0002") == [wa(of(HU, "email"), locale)]
        assert await anna.send("someone@example.hu") == [wa(of(HU, "no_match"), locale)]
        await anna.press(wa(label(HU, "no_match", "retry"), locale))
        await anna.send("HU-2024-0002")
        assert await anna.send("info@minta.example.hu") == [wa(of(HU, "declaration"), locale)]
        address = "info@minta.example.hu"
        assert await anna.press(wa(of(HU, "declaration", "yes_label"), locale)) == [
            wa(of(HU, "record_declaration"), locale),
            wa(of(HU, "activate"), locale, address=address),
        ]
        await bot.app.effects.courier.drain()
        ((mail, subject, _body),) = bot.delivery.sent
        assert (mail.to, subject) == (address, wa(link_step.LINK_SUBJECT, locale))
        assert (await page(bot, str(mail.params["url"])))[0] == 200
        assert anna.read_new() == [wa(of(HU, "password"), locale, minutes=durations.minutes(30))]
        assert anna.link().startswith(f"{SITE}/password/")
        ready, finished = await set_password(bot, anna)
        assert ready.startswith(wa(handoff.PORTAL_READY, locale))  # and a CTA to the portal
        assert bot.graph.to(anna.number)[-2].link == (
            wa("Open", locale),  # the portal's label is over WhatsApp's 20 characters
            "https://portal.example.com",
        )
        assert ready.endswith(wa(handoff.OPEN_PORTAL, locale))
        assert finished == wa(of(HU, "finished"), locale)


# -- kk -------------------------------------------------------------------------------------

KK_EMAIL, KK_PHONE, KK_SHOWN = "kabinet@example.kz", "77025550101", "+7 702 555 0101"


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_kk_own_number_is_the_one_the_customer_writes_from(
    tmp_path: Path, locale: str
) -> None:
    async with running_whatsapp(tmp_path) as bot:
        if locale == "en":
            pre = bot.customer("kk", KK_PHONE)
            await pre.send("/language")
            await pre.press("English")
        ainur = bot.customer(locale, KK_PHONE)  # writes from the number in her contract
        assert (await ainur.send("/start kk-insurance-cabinet"))[-3:] == [
            wa(of(KK, "intro"), locale),
            shown(notice_text(locale)),
            wa(of(KK, "email"), locale),
        ]
        assert await ainur.send(KK_EMAIL) == [wa(of(KK, "phone"), locale)]
        assert [title for _, title in ainur.choices] == [wa("Use this number", locale)]
        # someone else's card (WhatsApp says whose: a wa_id that is not hers) is refused
        assert await ainur.share_contact("+7 701 123 4567", "77011234567") == [
            wa(of(KK, "phone", "not_yours"), locale)
        ]
        replies = await ainur.share_own_number()
        assert replies[:2] == [
            wa(GOT_IT, locale, phone=KK_SHOWN),
            wa(of(KK, "phone_confirmed"), locale, phone=KK_SHOWN),
        ]
        assert replies[-1] == wa(of(KK, "password"), locale, minutes=durations.minutes(30))
        await bot.app.effects.courier.drain()
        assert sorted(m.channel for m, _s, _b in bot.delivery.sent) == ["email", "sms"]
        assert all(m.channel != "sms" or "code" not in m.params for m, _s, _b in bot.delivery.sent)


@pytest.mark.parametrize("locale", ["kk"])
async def test_kk_a_number_from_another_phone_needs_the_sms_code(
    tmp_path: Path, locale: str
) -> None:
    async with running_whatsapp(tmp_path) as bot:
        bolat = bot.customer(locale, "77771234567")  # not the number in the contract
        await bolat.send("/start kk-insurance-cabinet")
        await bolat.send(KK_EMAIL)
        # her own number is verified, but it is not the contract's: the CRM says no match
        assert (await bolat.share_own_number())[-1] == wa(of(KK, "wrong_details"), locale)
        await bolat.press(wa("Enter the details again", locale))
        await bolat.send(KK_EMAIL)
        assert await bolat.send("+7 702 555 0101") == [
            wa(phone_step.GOT_IT, locale, phone=KK_SHOWN),
            wa(of(KK, "sms_code"), locale, length=8, address=KK_SHOWN),
        ]
        await bot.app.effects.courier.drain()
        [(sms, _s, _b)] = bot.delivery.sent
        assert (sms.channel, sms.to) == ("sms", "+" + KK_PHONE)
        opened = await bolat.send(str(sms.params["code"]))
        assert opened[-1] == wa(of(KK, "password"), locale, minutes=durations.minutes(30))


# -- de -------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_de_flow_over_whatsapp(tmp_path: Path, app_redis: str, locale: str) -> None:
    clock = Clock()
    async with running_whatsapp(tmp_path, redis_url=app_redis, clock=clock) as bot:
        token = await issue_invitation(
            SqlInvitations(bot.app.db), flow=DE.id, customer_id=None, locale=locale,
            now=clock(), edition="practice",
        )  # fmt: skip
        alice = bot.customer(locale, None if locale == "de" else "447700900301")
        limits = {"min": 4, "max": 30}
        assert await alice.send(f"/start {token}") == [
            shown(notice_text(locale)),
            wa(of(DE, "username"), locale, **limits),
        ]
        assert await alice.send("Dr.Mueller") == [
            wa(of(DE, "password"), locale, minutes=durations.minutes(30))
        ]
        assert await set_password(bot, alice) == [
            linked(
                wa(of(DE, "pin"), locale, minutes=durations.minutes(30)),
                of(DE, "pin", "button"),
                locale,
            )
        ]
        assert await set_pin(bot, alice) == [wa(of(DE, "two_factor"), locale)]
        assert await alice.press(wa(of(DE, "two_factor", "yes_label"), locale)) == [
            wa(of(DE, "phone"), locale)
        ]
        assert await alice.send("0151 23456789") == [
            wa(GOT_IT, locale, phone="+49 1512 3456789"),
            wa(of(DE, "sms"), locale, length=8, address="+49 1512 3456789"),
        ]
        await bot.app.effects.courier.drain()
        code = str(bot.delivery.sent[-1][0].params["code"])
        wrong = "00000000" if code != "00000000" else "11111111"
        tries = Text(code_step.WRONG[0], {"count": 4}, plural=code_step.WRONG[1], count=4)
        assert await alice.send(wrong) == [shown(words(tries, locale))]
        assert await alice.send(code) == [wa(of(DE, "visibility"), locale)]
        assert await alice.press(wa(of(DE, "visibility", "yes_label"), locale)) == [
            wa(of(DE, "finished"), locale)
        ]
        profile = await SqlProfiles(bot.app.db).get_profile("dr.mueller")
        assert profile is not None
        assert (profile.two_factor_phone, profile.visible) == ("+4915123456789", True)


def linked(body: str, button: str, locale: str) -> str:
    """A CTA message's body: a link label over WhatsApp's 20 characters is its last line (the
    button then says "Open")."""
    label = wa(button, locale)
    return f"{body}\n\n{label}" if len(label) > 20 else body


def words(text: Text, locale: str) -> str:
    from tests.bot.test_bg_flow_telegram import words as rendered

    return rendered(text, locale)


async def set_pin(bot: RunningWhatsApp, customer: WaCustomer) -> list[str]:
    link = customer.link()
    assert link.startswith(f"{SITE}/pin/")
    status, html = await page(bot, link)
    match = CSRF.search(html)
    assert match is not None
    csrf = match.group(1)
    status, html = await form(bot, link, csrf=csrf, action="generate")
    pin = SHOWN_PIN.search(html)
    assert pin is not None
    status, _ = await form(bot, f"{link}/confirm", csrf=csrf, pin=pin.group(1), stored="yes")
    assert status == 200
    return customer.read_new()


# -- pl -------------------------------------------------------------------------------------


def contract_text(locale: str, number: str, product: str, *devices: str, active: bool) -> str:
    template = contract_steps.ACTIVE_CONTRACT if active else contract_steps.INACTIVE_CONTRACT
    lines = "\n".join(f"• {device}" for device in devices)
    return wa(template, locale, number=number, product=product, devices=lines)


@pytest.mark.parametrize("locale", ["pl", "en"])
async def test_pl_flow_over_whatsapp(tmp_path: Path, app_redis: str, locale: str) -> None:
    settings = {"default_flow": "pl-support-contracts"}
    async with running_whatsapp(tmp_path, redis_url=app_redis, settings=settings) as bot:
        alice = bot.customer(locale, None if locale == "pl" else "447700900401")
        assert await alice.send("/start") == [
            wa(of(PL, "intro"), locale),
            shown(notice_text(locale)),
            wa(of(PL, "email"), locale),
        ]
        assert await alice.send("biuro@example.pl") == [wa(of(PL, "phone"), locale)]
        assert await alice.send("+48221234567") == [wa(DEFAULT_INVALID["pl_phone"], locale)]
        assert await alice.send("221 234 567") == [wa(of(PL, "nip"), locale)]
        assert await alice.send("8567346215") == [
            wa(of(PL, "verify_email"), locale, address="biuro@example.pl")
        ]
        await bot.app.effects.courier.drain()
        ((mail, _subject, _body),) = bot.delivery.sent
        assert (await page(bot, str(mail.params["url"])))[0] == 200
        assert alice.read_new() == [wa(of(PL, "password"), locale, minutes=durations.minutes(30))]
        assert await set_password(bot, alice) == [wa(of(PL, "contract"), locale)]
        assert await alice.send("A123456") == [wa(of(PL, "serial"), locale)]
        assert await alice.send("JPE2041X0YZ") == [wa(of(PL, "mismatch"), locale)]
        assert len(alice.choices) == 3  # contract, serial, a person: reply buttons or a list
        assert await alice.press(wa(label(PL, "mismatch", "serial"), locale)) == [
            wa(of(PL, "serial"), locale)
        ]
        listed = await alice.send("abcd-1234-efgh-5678")
        assert listed == [
            wa(of(PL, "contracts"), locale),
            contract_text(
                locale,
                "A123456",
                "Support Premium",
                "FCW2231L0AB — Router C9200 (server room)",
                "ABCD-1234-EFGH-5678 — Backup Suite licence",
                active=True,
            ),
            contract_text(
                locale, "B654321", "Support Basic", "SN-OLD-0001 — Old switch", active=False
            ),
            wa(of(PL, "finished"), locale, email="biuro@example.pl"),
        ]
        assert "*A123456*" in listed[1]  # our <b> is WhatsApp's bold
