"""The bg reference flow (seed 000), end to end through the Telegram transport, in every locale.

State in the real Redis; once more on the embedded default (SQLite file, no Redis).
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.web.server import create_web_app
from dialogs import durations
from dialogs.i18n import SUPPORTED_LOCALES, Catalogs
from dialogs.render import render
from dialogs.replies import Param, Text
from dialogs.steps import code as code_step
from tests.bot.harness import RunningBot, running_bot
from tests.conftest import make_settings
from tests.notice import notice_text

INTRO = (
    "Welcome! Here you can register for our customer portal. Registration is open to customers "
    "with an active subscription contract whose contact e-mail address is recorded with us. "
    "For your security, only you can register yourself: our staff can never do it for you."
)
EIK = "Step 1 of 3. Please enter your company's EIK (9 or 13 digits)."
EIK_INVALID = (
    "An EIK has 9 or 13 digits and ends in a check digit. Please check it and send it again, "
    "digits only."
)
EMAIL = "Now enter the e-mail address for correspondence that is recorded with us."
EMAIL_INVALID = "That does not look like an e-mail address. Please send it as name@example.com."
NO_MATCH = (
    "We could not confirm these details, so the registration cannot continue. Please check the "
    "EIK and the e-mail address. If they are right, call our support on 02 42 48 948 or your "
    "account manager to have your e-mail address added."
)
CODE = (
    "Step 2 of 3. We have e-mailed a {length}-digit PIN to {address}. The e-mail contains only "
    "the code and no link; do not reply to it. Please enter the PIN here. If it has not arrived "
    "within a few minutes, check your spam folder."
)
HANDOFF = (
    "Step 3 of 3. Your e-mail address is confirmed. Create your personal password on our secure "
    "page (the link works once, for {minutes}). Use upper- and lower-case letters. "
    "Never type your password into this chat: nobody from our company will ever ask you for it. "
    "If you forget it, simply go through these steps again."
)
CATALOGS = Catalogs()


def words(text: Text, locale: str) -> str:
    return render(text, CATALOGS, locale, lambda value: html.escape(value, quote=False))


def t(msgid: str, locale: str, **params: Param) -> str:
    return words(Text(msgid, params), locale)


async def walk_bg_flow(bot: RunningBot, locale: str) -> None:
    alice = bot.customer(language_code=locale)

    assert await alice.send("/start") == [t(INTRO, locale), notice_text(locale), t(EIK, locale)]
    assert await alice.send("12345") == [t(EIK_INVALID, locale)]
    assert await alice.send("175074752") == [t(EMAIL, locale)]
    assert await alice.send("not an address") == [t(EMAIL_INVALID, locale)]

    # Wrong e-mail for this EIK: one answer for every mismatch, nothing sent.
    assert await alice.send("someone@example.com") == [t(NO_MATCH, locale)]
    await bot.app.effects.courier.drain()  # mails leave in the background
    assert bot.delivery.sent == []
    assert await alice.press(t("Enter the details again", locale)) == [t(EIK, locale)]
    assert await alice.send("175 074 752") == [t(EMAIL, locale)]

    replies = await alice.send("Demo@Example.com")
    assert replies == [t(CODE, locale, length=6, address="demo@example.com")]
    assert [b["text"] for b in alice.keyboard] == [
        t(code_step.RESEND, locale),
        t(code_step.CHANGE_EMAIL, locale),
    ]
    await bot.app.effects.courier.drain()  # the mail leaves in the background
    ((mail, subject, body),) = bot.delivery.sent
    code = str(mail.params["code"])
    assert mail.to == "demo@example.com"
    assert subject == t("Your PIN", locale)  # the bg flow calls its code a PIN everywhere
    assert code in body
    assert "http" not in body  # the mail holds only the code, no link (anti-phishing)

    wrong = "000000" if code != "000000" else "111111"
    assert await alice.send(wrong) == [
        words(Text(code_step.WRONG[0], {"count": 4}, plural=code_step.WRONG[1], count=4), locale)
    ]
    assert await alice.send(code) == [t(HANDOFF, locale, minutes=durations.minutes(30))]
    link = alice.link()
    assert link.startswith("https://onboard.example.com/password/")
    await open_hand_off_page(bot, link, locale)


async def open_hand_off_page(bot: RunningBot, link: str, locale: str) -> None:
    web_app = create_web_app(bot.app.records, bot.app.catalogs, bot.app.clock)
    async with TestClient(TestServer(web_app)) as client:
        page = await client.get(link.removeprefix("https://onboard.example.com"))
        assert page.status == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert CATALOGS.gettext("Create your password", locale) in await page.text()
        forged = await client.get("/password/not-a-real-token")
        assert forged.status == 410


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_bg_flow_in_every_locale_on_redis(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with running_bot(make_settings(tmp_path, redis_url=app_redis)) as bot:
        await walk_bg_flow(bot, locale)


@pytest.mark.parametrize("locale", ["en", "bg"])
async def test_bg_flow_on_the_embedded_default(tmp_path: Path, locale: str) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        await walk_bg_flow(bot, locale)


async def test_bg_flow_with_records_in_postgresql(
    tmp_path: Path, app_redis: str, pg_database: str
) -> None:
    settings = make_settings(tmp_path, redis_url=app_redis, database_url=pg_database)
    async with running_bot(settings) as bot:
        await walk_bg_flow(bot, "de")


async def test_translations_differ_from_english() -> None:
    for locale in SUPPORTED_LOCALES[1:]:
        assert t(EIK, locale) != EIK, locale
