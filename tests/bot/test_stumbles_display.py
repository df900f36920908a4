"""Issue 17, item 10: phone numbers are shown as people write them (the international format
of the number's own numbering plan), not as raw E.164 — in the echo, in flow texts and in
the SMS-code messages — through the Telegram transport, in every locale."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.i18n import SUPPORTED_LOCALES
from dialogs.steps import phone as phone_step
from tests.bot.harness import running_bot
from tests.bot.test_bg_flow_telegram import t
from tests.bot.test_hu_flow_telegram import SOURCE, texts
from tests.conftest import make_settings

pytestmark = pytest.mark.stumbles

KK = texts(SOURCE / "kk-insurance-cabinet.yaml")


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_a_typed_number_is_echoed_formatted(tmp_path: Path, locale: str) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        ainur = bot.customer(language_code=locale)
        await ainur.send("/start kk-insurance-cabinet")
        await ainur.send("kabinet@example.kz")
        got, code = await ainur.send("87025550101")
        assert got == t(phone_step.GOT_IT, locale, phone="+7 702 555 0101")
        assert "+77025550101" not in got
        assert code == t(str(KK["sms_code"]["text"]), locale, length=8, address="+7 702 555 0101")
        await bot.app.effects.courier.drain()
        ((sms, _subject, _body),) = bot.delivery.sent
        assert sms.to == "+77025550101"  # what is sent and stored stays E.164
