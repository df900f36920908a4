"""Issue 17, items 3–5: one-time codes as a customer meets them, through the Telegram transport,
in every locale (the bg flow: e-mail code, step ``code``).

3. every message that says "the button below" carries that button;
4. a changed address: what happens, to which address, and what to press;
5. wrong codes are counted per conversation: a resend, a changed address or starting over does
   not give fresh tries; after the lockout a new code can be asked for again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dialogs import durations
from dialogs.help_ticket import HUMAN_PAUSED
from dialogs.i18n import SUPPORTED_LOCALES
from dialogs.replies import Text
from dialogs.steps import code as code_step
from tests.bot.harness import Customer, RunningBot, running_bot
from tests.bot.test_bg_flow_telegram import CODE, EIK, EMAIL, HANDOFF, INTRO, t, words
from tests.conftest import make_settings
from tests.delivery.harness import Clock
from tests.notice import notice_text

pytestmark = pytest.mark.stumbles

OFFICE, ACCOUNTING = "office@sofia-print.example.com", "accounting@sofia-print.example.com"


def tn(forms: tuple[str, str], count: int, locale: str, **params: str | int) -> str:
    return words(Text(forms[0], {"count": count, **params}, plural=forms[1], count=count), locale)


@asynccontextmanager
async def bg_bot(tmp_path: Path, clock: Clock) -> AsyncIterator[RunningBot]:
    async with running_bot(make_settings(tmp_path), clock=clock) as bot:
        yield bot


async def reach_code(bot: RunningBot, alice: Customer, locale: str, email: str) -> None:
    assert await alice.send("/start") == [t(INTRO, locale), notice_text(locale), t(EIK, locale)]
    assert await alice.send("121005553") == [t(EMAIL, locale)]
    assert await alice.send(email) == [t(CODE, locale, length=6, address=email)]


async def mailed(bot: RunningBot) -> list[tuple[str, str]]:
    """(address, code) of every code mail so far."""
    await bot.app.effects.courier.drain()
    return [(m.to, str(m.params["code"])) for m, _subject, _body in bot.delivery.sent]


def labels(alice: Customer) -> list[str]:
    markup = alice.last_markup().get("inline_keyboard", [])
    return [button["text"] for row in markup for button in row]


async def press_old_button(alice: Customer, data: str) -> list[str]:
    """A press on a button of an earlier message (Telegram keeps them pressable)."""
    update = alice.api.callback(alice.user_id, data, language_code=alice.language_code)
    return await alice.deliver(update)


def wrong_for(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_expired_and_locked_messages_carry_their_buttons(tmp_path: Path, locale: str) -> None:
    """Item 3: "ask with the button below" comes with the button, not several messages up."""
    clock = Clock()
    async with bg_bot(tmp_path, clock) as bot:
        alice = bot.customer(language_code=locale)
        await reach_code(bot, alice, locale, OFFICE)
        ((_to, code),) = await mailed(bot)
        clock.now += 600
        assert await alice.send(code) == [t(code_step.EXPIRED, locale)]
        resend, change = t(code_step.RESEND, locale), t(code_step.CHANGE_EMAIL, locale)
        assert labels(alice) == [resend, change]

        assert await alice.press(resend) == [t(code_step.RESENT, locale, address=OFFICE)]
        code = (await mailed(bot))[-1][1]
        for left in (4, 3, 2, 1):
            said = await alice.send(wrong_for(code))  # (the third also offers /human)
            assert said[0] == tn(code_step.WRONG, left, locale)
        assert await alice.send(wrong_for(code)) == [tn(code_step.LOCKED, 30, locale)]
        talk = t(code_step.TALK_TO_A_PERSON, locale)
        assert labels(alice) == [talk]
        assert await alice.press(talk) == [t(HUMAN_PAUSED, locale)]  # it does what the text says


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_a_changed_address_says_what_happens_and_where(tmp_path: Path, locale: str) -> None:
    """Item 4: after a change the customer is told the old code is dead, where the new one
    goes and that a press is needed; the resend names the address; the old code is not
    called "expired"."""
    clock = Clock()
    async with bg_bot(tmp_path, clock) as bot:
        alice = bot.customer(language_code=locale)
        await reach_code(bot, alice, locale, ACCOUNTING)
        ((_to, old),) = await mailed(bot)
        assert await alice.press(t(code_step.CHANGE_EMAIL, locale)) == [t(EMAIL, locale)]
        clock.now += 3
        assert await alice.send(OFFICE) == [tn(code_step.WAIT_CHANGED, 57, locale, address=OFFICE)]
        resend = t(code_step.RESEND, locale)
        assert resend in labels(alice)
        assert await alice.send(old) == [t(code_step.OLD_ADDRESS, locale, address=OFFICE)]
        assert resend in labels(alice)
        clock.now += 57
        assert await alice.press(resend) == [t(code_step.RESENT, locale, address=OFFICE)]
        sent = await mailed(bot)
        assert [to for to, _code in sent] == [ACCOUNTING, OFFICE]
        assert await alice.send(sent[-1][1]) == [t(HANDOFF, locale, minutes=durations.minutes(30))]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_wrong_codes_count_per_conversation_not_per_code(tmp_path: Path, locale: str) -> None:
    """Item 5: after 5 wrong codes neither a resend, a changed address nor /cancel and /start
    bring fresh tries; nothing more is mailed until the lockout has passed."""
    clock = Clock()
    async with bg_bot(tmp_path, clock) as bot:
        alice = bot.customer(language_code=locale)
        await reach_code(bot, alice, locale, OFFICE)
        code = (await mailed(bot))[-1][1]
        for _ in range(4):
            await alice.send(wrong_for(code))
        clock.now += 60
        assert await press_old_button(alice, "s:code:resend") == [
            t(code_step.RESENT, locale, address=OFFICE)
        ]
        code = (await mailed(bot))[-1][1]
        assert await alice.send(wrong_for(code)) == [tn(code_step.LOCKED, 29, locale)]

        clock.now += 60
        locked = [tn(code_step.LOCKED, 28, locale)]
        assert await press_old_button(alice, "s:code:resend") == locked
        assert await alice.send(code) == locked  # even the right code: entry is locked
        await press_old_button(alice, "s:code:change")
        assert await alice.send(ACCOUNTING) == locked
        await alice.send("/cancel")
        assert (await alice.send("/start"))[-1] == t(EIK, locale)
        await alice.send("121005553")
        assert await alice.send(OFFICE) == locked
        assert len(await mailed(bot)) == 2

        clock.now += 28 * 60  # the first four are 30 minutes old: a new code can be asked for
        assert await press_old_button(alice, "s:code:resend") == [
            t(code_step.RESENT, locale, address=OFFICE)
        ]
        code = (await mailed(bot))[-1][1]  # the fifth wrong code still counts
        assert await alice.send(wrong_for(code)) == [tn(code_step.WRONG, 3, locale)]
        assert await alice.send(code) == [t(HANDOFF, locale, minutes=durations.minutes(30))]
