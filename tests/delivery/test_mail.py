"""The bg flow (seed 000) with its PIN from a real SMTP server on loopback, through the
Telegram harness: multipart mail in the customer's language, code only, no enumeration, and an
SMTP outage the customer is told about."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.outbox import DELIVERY_FAILED
from dialogs import durations
from dialogs.steps import code as code_step
from tests.bot.harness import RunningBot
from tests.bot.test_bg_flow_telegram import CODE, HANDOFF, NO_MATCH, t
from tests.conftest import make_settings
from tests.delivery.harness import Clock, delivering_bot
from tests.delivery.servers import Mailbox, smtp_server


def smtp_settings(tmp_path: Path, mailbox: Mailbox, **extra: object) -> dict[str, object]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox.port,
        "smtp_security": "none",
        "mail_from": "portal@example.com",
        **extra,
    }


async def reach_code(bot: RunningBot, locale: str, email: str = "demo@example.com") -> list[str]:
    alice = bot.customer(language_code=locale)
    await alice.send("/start")
    await alice.send("175074752")
    return await alice.send(email)


@pytest.mark.parametrize("locale", ["bg", "en"])
async def test_bg_flow_finishes_with_the_code_from_the_mail(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with smtp_server(Mailbox()) as mailbox:
        settings = make_settings(tmp_path, redis_url=app_redis, **smtp_settings(tmp_path, mailbox))
        async with delivering_bot(settings, Clock()) as bot:
            alice = bot.customer(language_code=locale)
            await alice.send("/start")
            await alice.send("175074752")
            replies = await alice.send("demo@example.com")
            assert replies == [t(CODE, locale, length=6, address="demo@example.com")]
            await bot.app.effects.courier.drain()

            (mail,) = mailbox.mails
            assert mailbox.envelopes == [("portal@example.com", ["demo@example.com"])]
            assert mail["Subject"] == t("Your PIN", locale)  # the bg flow's mail_subject
            assert mail["Content-Language"] == locale
            plain, rich = mailbox.parts()
            code = mailbox.code()
            assert len(code) == 6
            assert code in plain
            assert code in rich
            assert "http" not in plain
            assert "href" not in rich
            assert await alice.send(code) == [t(HANDOFF, locale, minutes=durations.minutes(30))]


async def test_known_and_unknown_identities_get_the_same_reply_and_no_mail(
    tmp_path: Path,
) -> None:
    async with smtp_server(Mailbox()) as mailbox:
        settings = make_settings(tmp_path, **smtp_settings(tmp_path, mailbox))
        async with delivering_bot(settings, Clock()) as bot:
            answers = []
            for user, (eik, email) in enumerate(
                [
                    ("175074752", "someone@example.com"),  # known EIK, wrong address
                    ("121212121", "demo@example.com"),  # unknown EIK, a known address
                    ("831642181", "nobody@example.org"),  # unknown altogether
                ],
                start=1,
            ):
                customer = bot.customer(user_id=user)
                await customer.send("/start")
                await customer.send(eik)
                answers.append(await customer.send(email))
            await bot.app.effects.courier.drain()
            assert answers == [[t(NO_MATCH, "en")]] * 3
            assert mailbox.mails == []


async def test_smtp_down_the_customer_is_told_and_can_resend_when_it_is_back(
    tmp_path: Path,
) -> None:
    mailbox, clock = Mailbox(), Clock()
    settings = make_settings(tmp_path, **smtp_settings(tmp_path, mailbox))
    async with delivering_bot(settings, clock) as bot:
        alice = bot.customer()
        await alice.send("/start")
        await alice.send("175074752")
        replies = await alice.send("demo@example.com")
        # Four tries, all refused (nobody listens): the customer is told after the reply.
        assert replies[-1] == t(DELIVERY_FAILED, "en")

        async with smtp_server(mailbox):
            clock.now += 60
            assert await alice.press(t(code_step.RESEND, "en")) == [
                t(code_step.RESENT, "en", address="demo@example.com")
            ]
            await bot.app.effects.courier.drain()
            assert len(mailbox.mails) == 1
            assert await alice.send(mailbox.code()) == [
                t(HANDOFF, "en", minutes=durations.minutes(30))
            ]
