"""The bg reference flow (seed 000) over WhatsApp, in Bulgarian (the customer writes from a
+359 number, so the flow speaks Bulgarian without being asked) and English: signed webhook
POSTs in, Cloud API messages out; state in Redis, and once on the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.whatsapp.format import to_whatsapp
from dialogs import durations
from dialogs.replies import Text
from dialogs.steps import code as code_step
from tests.bot.test_bg_flow_telegram import (
    CODE,
    EIK,
    EIK_INVALID,
    EMAIL,
    EMAIL_INVALID,
    HANDOFF,
    INTRO,
    NO_MATCH,
    words,
)
from tests.notice import notice_text
from tests.whatsapp.harness import RunningWhatsApp, running_whatsapp, wa

pytestmark = pytest.mark.whatsapp


async def walk_bg_flow(bot: RunningWhatsApp, locale: str) -> None:
    number = None if locale == "bg" else "359887000111"
    alice = bot.customer(locale, number)
    if locale != "bg":  # a +359 number speaks Bulgarian; /language picks another
        await alice.send("/start")
        await alice.send("/language")
        await alice.press("English")
        alice = bot.customer(locale, "359887000112")  # and afresh, in English from the start
        await alice.send("/language")
        await alice.press("English")
    start = await alice.send("/start")
    assert start[-3:] == [wa(INTRO, locale), to_whatsapp(notice_text(locale)), wa(EIK, locale)]
    assert await alice.send("12345") == [wa(EIK_INVALID, locale)]
    assert await alice.send("175074752") == [wa(EMAIL, locale)]
    assert await alice.send("not an address") == [wa(EMAIL_INVALID, locale)]
    assert await alice.send("someone@example.com") == [wa(NO_MATCH, locale)]
    await bot.app.effects.courier.drain()
    assert bot.delivery.sent == []
    assert await alice.press(wa("Enter the details again", locale)) == [wa(EIK, locale)]
    assert await alice.send("175 074 752") == [wa(EMAIL, locale)]
    assert await alice.send("Demo@Example.com") == [
        wa(CODE, locale, length=6, address="demo@example.com")
    ]
    assert [title for _, title in alice.choices] == [
        wa(code_step.RESEND, locale),
        wa(code_step.CHANGE_EMAIL, locale),
    ]
    await bot.app.effects.courier.drain()
    ((mail, _subject, body),) = bot.delivery.sent
    code = str(mail.params["code"])
    assert code in body
    wrong = "000000" if code != "000000" else "111111"
    tries = Text(code_step.WRONG[0], {"count": 4}, plural=code_step.WRONG[1], count=4)
    assert await alice.send(wrong) == [to_whatsapp(words(tries, locale))]
    handoff = await alice.send(code)
    assert handoff == [wa(HANDOFF, locale, minutes=durations.minutes(30))]
    link = alice.link()  # a CTA URL button under the text
    assert link.startswith("https://onboard.example.com/password/")
    assert bot.graph.to(alice.number)[-1].link == (wa("Create my password", locale), link)
    page = bot.url.replace("/whatsapp/webhook", link.removeprefix("https://onboard.example.com"))
    async with bot.http.get(page) as answer:
        assert answer.status == 200
        assert wa("Create your password", locale) in await answer.text()


@pytest.mark.parametrize("locale", ["bg", "en"])
async def test_bg_flow_over_whatsapp_on_redis(tmp_path: Path, app_redis: str, locale: str) -> None:
    async with running_whatsapp(tmp_path, redis_url=app_redis) as bot:
        await walk_bg_flow(bot, locale)


async def test_bg_flow_over_whatsapp_on_the_embedded_default(tmp_path: Path) -> None:
    async with running_whatsapp(tmp_path) as bot:
        await walk_bg_flow(bot, "bg")
