"""The kk reference flow (seed 002) through the Telegram transport, in Kazakh and English: a
policy bought online needs no registration; wrong e-mail or phone; someone else's contact
refused; one's own contact needs no SMS; a typed number gets an 8-digit code from the real
HTTP SMS gateway on loopback (wrong code, resend, /back to fix the number); the opening
confirmed by SMS and e-mail; the password hand-off. Also walked in the terminal chat."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from dialogs import durations
from dialogs.engine import NEED_HELP
from dialogs.navigation import PREVIOUS_ANSWER
from dialogs.replies import Text, say_n
from dialogs.steps import code as code_step
from dialogs.steps import phone as phone_step
from tests.bot.harness import RunningBot
from tests.bot.test_bg_flow_telegram import open_hand_off_page, t, words
from tests.bot.test_hu_flow_telegram import (
    SOURCE,
    demo_chat,
    insurance_bot,
    read_until,
    texts,
    type_lines,
)
from tests.conftest import make_settings
from tests.delivery.harness import Clock
from tests.delivery.servers import Mailbox, SmsGateway, sms_gateway, smtp_server
from tests.notice import notice_text
from tests.test_cli import terminal_chat

STEPS = texts(SOURCE / "kk-insurance-cabinet.yaml")
EMAIL, PHONE = "kabinet@example.kz", "+77025550101"
SHOWN = "+7 702 555 0101"  # the number as the chat writes it (issue 17 item 10)


def text(step: str, field: str = "text") -> str:
    return str(STEPS[step][field])


def notice(channel: str, field: str = "body") -> str:
    return next(str(n[field]) for n in STEPS["opened"]["send"] if n["channel"] == channel)


def opened(locale: str) -> list[str]:
    """What the customer reads once the number is confirmed."""
    return [
        t(text("opened"), locale, phone=SHOWN, email=EMAIL),
        t(text("password"), locale, minutes=durations.minutes(30)),
    ]


async def start(bot: RunningBot, locale: str, user_id: int = 4242) -> Any:
    ainur = bot.customer(user_id=user_id, language_code=locale)
    assert await ainur.send("/start kk-insurance-cabinet") == [
        t(text("intro"), locale),
        notice_text(locale),
        t(text("email"), locale),
    ]
    return ainur


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_kk_bought_online_wrong_details_and_contacts(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with insurance_bot(tmp_path, make_settings(tmp_path, redis_url=app_redis)) as bot:
        ainur = await start(bot, locale)
        assert await ainur.send("office(at)example.kz") == [t(text("email", "invalid"), locale)]
        assert await ainur.send("Office@Example.kz") == [t(text("phone"), locale)]
        keyboard = ainur.last_markup()["keyboard"]
        assert keyboard[0][0]["request_contact"] is True

        example = {"example": "+7 701 123 4567"}
        assert await ainur.send("+7 916 123 4567") == [
            t(text("phone", "invalid"), locale, **example)
        ]  # a Russian number
        assert await ainur.send("+7 727 250 0000") == [
            t(text("phone", "invalid"), locale, **example)
        ]  # an Almaty landline: no SMS can reach it
        assert await ainur.share_contact("77011234567", own=False) == [
            t(text("phone", "not_yours"), locale),
            t(NEED_HELP, locale),  # the third mistake in a row: a person is offered
        ]
        assert await ainur.send("8 701 123 4567") == [
            t(phone_step.GOT_IT, locale, phone="+7 701 123 4567"),
            t(text("already_open"), locale, phone="+7 701 123 4567", email="office@example.kz"),
        ]
        await bot.app.effects.courier.drain()  # mails leave in the background
        assert bot.delivery.sent == []

        # Wrong e-mail or phone: the same answer, nothing sent; then the details again.
        bolat = await start(bot, locale, user_id=77)
        await bolat.send(EMAIL)
        assert await bolat.send("+7 701 123 4567") == [
            t(phone_step.GOT_IT, locale, phone="+7 701 123 4567"),
            t(text("wrong_details"), locale),
        ]
        await bolat.press(t("Enter the details again", locale))
        await bolat.send("nobody@example.kz")
        assert (await bolat.send("+7 702 555 0101"))[-1] == t(text("wrong_details"), locale)
        await bot.app.effects.courier.drain()  # mails leave in the background
        assert bot.delivery.sent == []


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_kk_own_contact_needs_no_sms_code(tmp_path: Path, locale: str) -> None:
    async with insurance_bot(tmp_path, make_settings(tmp_path)) as bot:
        ainur = await start(bot, locale)
        await ainur.send(EMAIL)
        assert await ainur.share_contact("77025550101") == [
            t(phone_step.GOT_IT, locale, phone=SHOWN),
            t(text("phone_confirmed"), locale, phone=SHOWN),
            *opened(locale),
        ]
        await bot.app.effects.courier.drain()
        sent = [(m.channel, m.to, m.body) for m, _subject, _body in bot.delivery.sent]
        assert sorted(sent) == [("email", EMAIL, notice("email")), ("sms", PHONE, notice("sms"))]
        await open_hand_off_page(bot, ainur.link(), locale)


@asynccontextmanager
async def delivering(tmp_path: Path, clock: Clock) -> AsyncIterator[tuple[RunningBot, Any, Any]]:
    """Real SMS gateway and SMTP server on loopback, the bot sending through them."""
    async with sms_gateway(SmsGateway()) as gateway, smtp_server(Mailbox()) as mailbox:
        settings = make_settings(
            tmp_path,
            sms_gateway_url=gateway.url,
            sms_gateway_token=gateway.token,
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_security="none",
        )
        options = {"clock": clock, "real_delivery": True, "retry_delays": (0.01, 0.01)}
        async with insurance_bot(tmp_path, settings, **options) as bot:
            yield bot, gateway, mailbox


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_kk_typed_number_gets_an_sms_code(tmp_path: Path, locale: str) -> None:
    clock = Clock()
    async with delivering(tmp_path, clock) as (bot, gateway, mailbox):
        ainur = await start(bot, locale)
        await ainur.send(EMAIL)
        assert await ainur.send("+7 702 555 0101") == [
            t(phone_step.GOT_IT, locale, phone=SHOWN),
            t(text("sms_code"), locale, length=8, address=SHOWN),
        ]
        await bot.app.effects.courier.drain()
        (sms,) = gateway.received
        first = gateway.code()
        assert (sms["to"], len(first)) == (PHONE, 8)
        assert mailbox.mails == []

        wrong = "00000000" if first != "00000000" else "11111111"
        wrong_reply = Text(code_step.WRONG[0], {"count": 4}, plural=code_step.WRONG[1], count=4)
        assert await ainur.send(wrong) == [words(wrong_reply, locale)]
        assert await ainur.send("1234") == [words(say_n(code_step.WRONG_FORM, 8, length=8), locale)]

        # Resend: not before 60 s, then a new code.
        wait = Text(code_step.WAIT[0], {"count": 30}, plural=code_step.WAIT[1], count=30)
        clock.now += 30
        assert await ainur.press(t(code_step.RESEND, locale)) == [words(wait, locale)]
        clock.now += 30
        assert await ainur.press(t(code_step.RESEND, locale)) == [
            t(code_step.RESENT, locale, address=SHOWN)
        ]
        await bot.app.effects.courier.drain()
        assert len(gateway.received) == 2

        # /back to fix the number: the number is asked again and a new code goes to it.
        assert await ainur.send("/back") == [
            t(PREVIOUS_ANSWER, locale, answer=SHOWN),
            t(text("phone"), locale),
        ]
        clock.now += 60
        assert (await ainur.send("+7 702 555 01 01"))[-1] == t(
            text("sms_code"), locale, length=8, address=SHOWN
        )
        await bot.app.effects.courier.drain()
        assert len(gateway.received) == 3
        newest = gateway.code()
        if newest != first:  # the code sent before /back is void (a 1 in 10^8 chance it repeats)
            third = Text(code_step.WRONG[0], {"count": 3}, plural=code_step.WRONG[1], count=3)
            assert await ainur.send(first) == [words(third, locale)]  # the count goes on

        assert await ainur.send(newest) == opened(locale)
        await bot.app.effects.courier.drain()
        confirmation = gateway.received[-1]
        assert confirmation["to"] == PHONE
        assert confirmation["text"] == t(notice("sms"), locale)
        (mail,) = mailbox.mails
        assert mail["To"] == EMAIL
        assert mail["Subject"] == t(notice("email", "subject"), locale)
        assert "http" not in confirmation["text"]
        await open_hand_off_page(bot, ainur.link(), locale)


async def test_terminal_chat_walks_the_kk_flow_on_demo_data(tmp_path: Path) -> None:
    async with terminal_chat(tmp_path, *demo_chat("kk-insurance-cabinet", "kk")) as (process, site):
        assert process.stdout is not None
        await type_lines(process, EMAIL, "+7 702 555 0101")
        code = await read_until(
            process.stdout, re.compile(r"\[development sms to \S+\].*?\b(\d{8})\b")
        )
        await type_lines(process, code)
        password = re.compile(rf"\[1\] .* → ({re.escape(site)}/password/\S+)")
        assert (await read_until(process.stdout, password)).startswith(f"{site}/password/")
        assert process.stdin is not None
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), 30) == 0


@pytest.mark.stumbles
@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_kk_step_numbers_never_jump_when_the_sms_is_skipped(
    tmp_path: Path, locale: str
) -> None:
    """Issue 17, item 12: with one's own contact (no SMS code) the steps read 1, 2, 3, 4 of 4."""
    async with insurance_bot(tmp_path, make_settings(tmp_path)) as bot:
        ainur = bot.customer(language_code=locale)
        said = await ainur.send("/start kk-insurance-cabinet")
        said += await ainur.send(EMAIL)
        said += await ainur.share_contact("77025550101")
        steps = [text(s) for s in ("email", "phone", "phone_confirmed", "password")]
        assert [s.split(".")[0] for s in steps] == [f"Step {n} of 4" for n in range(1, 5)]
        expected = [t(s, locale, phone=SHOWN, minutes=durations.minutes(30)) for s in steps]
        assert [m for m in said if m in expected] == expected
