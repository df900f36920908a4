"""The CRM cannot answer while a customer is in a flow: a clear localised answer, nothing
recorded as "not found", the answers kept, each update applied once; when the CRM is back the
customer's next message or the "Try again" button does the look-up again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs import navigation
from dialogs.events import ConversationKey
from dialogs.i18n import SUPPORTED_LOCALES
from dialogs.state import ConversationState
from tests.bot.harness import RunningBot, running_bot
from tests.bot.test_bg_flow_telegram import CODE, EIK, EMAIL, INTRO, NO_MATCH, t
from tests.bot.test_hu_flow_telegram import insurance_bot
from tests.bot.test_kk_flow_telegram import EMAIL as KK_EMAIL
from tests.bot.test_kk_flow_telegram import PHONE as KK_PHONE
from tests.bot.test_kk_flow_telegram import SHOWN as KK_SHOWN
from tests.bot.test_kk_flow_telegram import opened, start, text
from tests.crm.conftest import live_settings
from tests.crm.server import FakeCrm
from tests.notice import notice_text

pytestmark = pytest.mark.crm
DOWN = navigation.LOOKUP_DOWN


# every language with the CRM down; every other misbehaviour once
CASES = [("down", locale) for locale in SUPPORTED_LOCALES] + [
    (behaviour, "bg") for behaviour in ("slow", "malformed", "huge", "not_json")
]


@pytest.mark.parametrize(("behaviour", "locale"), CASES)
async def test_bg_customer_is_told_to_try_again_and_nothing_is_lost(
    tmp_path: Path, crm: FakeCrm, behaviour: str, locale: str
) -> None:
    settings = live_settings(
        tmp_path, crm, crm_lookup_timeout_ms=300, crm_lookup_retries=1, crm_breaker_failures=50
    )
    async with running_bot(settings) as bot:
        alice = bot.customer(language_code=locale)
        assert await alice.send("/start") == [
            t(INTRO, locale),
            notice_text(locale),
            t(EIK, locale),
        ]
        assert await alice.send("175074752") == [t(EMAIL, locale)]
        crm.behaviour, crm.slow_seconds = behaviour, 2.0
        assert await alice.send("demo@example.com") == [t(DOWN, locale)]
        assert [b["text"] for b in alice.keyboard] == [t(navigation.TRY_AGAIN, locale)]
        # still down: the button asks again and says so again
        assert await alice.press(t(navigation.TRY_AGAIN, locale)) == [t(DOWN, locale)]
        await bot.app.effects.courier.drain()
        assert bot.delivery.sent == []  # no code for a look-up that did not happen

        state = await conversation(bot, alice.user_id)
        assert (state.step, state.parked) == ("match", "match")
        assert state.answers["email"] == "demo@example.com"  # kept for the retry
        assert state.customer_id is None

        crm.behaviour = "ok"
        assert await alice.press(t(navigation.TRY_AGAIN, locale)) == [
            t(CODE, locale, length=6, address="demo@example.com")
        ]
        await bot.app.effects.courier.drain()
        assert [m.to for m, _s, _b in bot.delivery.sent] == ["demo@example.com"]


async def test_any_message_retries_and_a_redelivered_update_is_applied_once(
    tmp_path: Path, crm: FakeCrm
) -> None:
    async with running_bot(live_settings(tmp_path, crm, crm_lookup_retries=0)) as bot:
        alice = bot.customer(language_code="en")
        await alice.send("/start")
        await alice.send("175074752")
        crm.behaviour = "down"
        assert await alice.send("someone@example.com") == [t(DOWN, "en")]
        crm.behaviour = "ok"
        update = alice.api.text(alice.user_id, "hello?", language_code="en")
        assert await alice.deliver(update) == [t(NO_MATCH, "en")]  # a real answer now
        asked = len(crm.requests)
        assert await alice.deliver(update) == []  # Telegram sent it again: applied once
        assert len(crm.requests) == asked
        state = await conversation(bot, alice.user_id)
        assert (state.step, state.parked) == ("no_match", None)


async def test_the_open_circuit_answers_at_once_and_back_still_works(
    tmp_path: Path, crm: FakeCrm
) -> None:
    settings = live_settings(tmp_path, crm, crm_lookup_retries=0, crm_breaker_failures=1)
    async with running_bot(settings) as bot:
        alice = bot.customer(language_code="en")
        await alice.send("/start")
        await alice.send("175074752")
        crm.behaviour = "down"
        assert await alice.send("demo@example.com") == [t(DOWN, "en")]
        asked = len(crm.requests)
        assert await alice.send("again") == [t(DOWN, "en")]
        assert len(crm.requests) == asked  # the circuit is open: the CRM is left alone
        assert await alice.send("/back") == [
            t(navigation.PREVIOUS_ANSWER, "en", answer="175074752"),
            t(EIK, "en"),
        ]


async def conversation(bot: RunningBot, user_id: int) -> ConversationState:
    """The stored state of the private chat with ``user_id`` (read without an update id)."""
    key = ConversationKey(bot_id=bot.api.bot_id, chat_id=user_id, user_id=user_id)
    snapshot = await bot.app.store.begin(key, None)
    return ConversationState.decode(snapshot.data)


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_kk_flow_against_the_live_crm(tmp_path: Path, crm: FakeCrm, locale: str) -> None:
    async with insurance_bot(tmp_path, live_settings(tmp_path, crm)) as bot:
        online = await start(bot, locale, user_id=10)
        await online.send("Office@Example.kz")
        assert (await online.send("8 701 123 4567"))[-1] == t(
            text("already_open"), locale, phone="+7 701 123 4567", email="office@example.kz"
        )
        wrong = await start(bot, locale, user_id=11)
        await wrong.send(KK_EMAIL)
        assert (await wrong.send("+7 701 123 4567"))[-1] == t(text("wrong_details"), locale)
        await bot.app.effects.courier.drain()
        assert bot.delivery.sent == []
        ainur = await start(bot, locale, user_id=12)
        await ainur.send(KK_EMAIL)
        assert (await ainur.share_contact(KK_PHONE.removeprefix("+")))[1:] == [
            t(text("phone_confirmed"), locale, phone=KK_SHOWN),
            *opened(locale),
        ]
    assert {"contacts/online", "contacts/match"} <= set(crm.ops())
