"""Issue 17, item 1: /start after a flow ended offers that customer's own flow, never another
company's (the default bg flow), through the Telegram transport with every shipped flow loaded
and bg as the default; a finished de customer who reopens their own invitation is told they
are registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.commands import CANCELLED
from dialogs.navigation import REGISTERED
from dialogs.steps import phone as phone_step
from tests.bot.harness import running_bot
from tests.bot.test_bg_flow_telegram import EIK, INTRO, t
from tests.bot.test_de_flow_telegram import choose_username, de_bot, text_of
from tests.bot.test_hu_flow_telegram import SOURCE, texts
from tests.conftest import make_settings
from tests.notice import notice_text

pytestmark = pytest.mark.stumbles

HU = texts(SOURCE / "hu-insurance-portal.yaml")
KK = texts(SOURCE / "kk-insurance-cabinet.yaml")


def hu(step: str, field: str = "text") -> str:
    return str(HU[step][field])


def hu_label(step: str, value: str) -> str:
    return next(str(o["label"]) for o in HU[step]["options"] if o["value"] == value)


@pytest.mark.parametrize("locale", ["hu", "en", "de"])
async def test_hu_customer_told_to_send_start_gets_the_hu_choice(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    """The hu ending says "send /start and choose 'Question or legal problem?'": it works."""
    async with running_bot(make_settings(tmp_path, redis_url=app_redis)) as bot:
        zoli = bot.customer(language_code=locale)
        await zoli.send("/start hu-insurance-portal")
        await zoli.press(t(hu_label("intro", "question"), locale))
        await zoli.send("06 30 123 4567")
        assert await zoli.send("Can I cancel my policy?") == [
            t(hu("callback_done"), locale, callback_phone="+36 30 123 4567")
        ]
        opening = await zoli.send("/start")
        assert opening == [t(hu("intro"), locale)]
        assert t(EIK, locale) not in opening
        assert t(hu_label("intro", "question"), locale) in [b["text"] for b in zoli.keyboard]

        assert await zoli.send("/cancel") == [t(CANCELLED, locale)]
        assert await zoli.send("/start") == [t(hu("intro"), locale)]  # cancelled: the same


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_kk_customer_after_the_end_gets_the_kk_flow_again(
    tmp_path: Path, locale: str
) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        ainur = bot.customer(language_code=locale)
        await ainur.send("/start kk-insurance-cabinet")
        await ainur.send("office@example.kz")
        said = await ainur.send("8 701 123 4567")
        assert said[0] == t(phone_step.GOT_IT, locale, phone="+7 701 123 4567")  # then: it is open
        assert await ainur.send("/start") == [
            t(str(KK["intro"]["text"]), locale),
            t(str(KK["email"]["text"]), locale),
        ]


async def test_someone_who_never_started_a_flow_still_gets_the_default(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        assert await bot.customer(language_code="bg").send("/start") == [
            t(INTRO, "bg"),
            notice_text("bg"),
            t(EIK, "bg"),
        ]


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_finished_de_customer_reopening_their_invitation_is_told_they_are_registered(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        alice = de.bot.customer(user_id=503, language_code=locale)
        token = await de.invite(locale, "solo")
        await choose_username(de, alice, locale, token)
        await alice.send("praxis-lang")
        await alice.press(de.t(text_of("visibility", "no_label"), locale))
        assert await de.set_password(alice) == [de.t(text_of("finished"), locale)]

        registered = [de.t(REGISTERED, locale)]
        assert await alice.send(f"/start {token}") == registered  # their own, used invitation
        assert await alice.send("/start") == registered
        bob = de.bot.customer(user_id=504, language_code=locale)
        assert await bob.send(f"/start {token}") != registered  # not for anyone else
