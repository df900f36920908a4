"""Issue 19: in a private chat the hand-off button opens our page inside Telegram (a Mini App,
``web_app``); elsewhere, and for pages that are not ours, it stays a plain link."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.telegram.render import TelegramRenderer
from dialogs.i18n import Catalogs
from dialogs.replies import Button, ButtonKind, Reply, Text
from tests.bot.harness import running_bot
from tests.conftest import make_settings
from tests.web.helpers import Clock

pytestmark = pytest.mark.browser
RENDERER = TelegramRenderer(Catalogs())


async def test_the_password_button_is_a_mini_app_in_the_private_chat(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path), clock=Clock()) as bot:
        alice = bot.customer(4343, language_code="de")
        await alice.send("/start")
        await alice.send("175074752")
        await alice.send("demo@example.com")
        await bot.app.effects.courier.drain()
        await alice.send(str(bot.delivery.sent[-1][0].params["code"]))
        (button,) = alice.keyboard
        assert set(button) == {"text", "web_app"}
        assert button["web_app"]["url"].startswith("https://onboard.example.com/password/")
        assert alice.link() == button["web_app"]["url"]


def buttons(url: str, *, in_app: bool, private: bool) -> dict[str, object]:
    reply = Reply(Text("Yes"), (Button(Text("Open"), ButtonKind.LINK, url, in_app=in_app),))
    markup = RENDERER.reply(reply, "en", private=private).markup
    assert markup is not None
    button: dict[str, object] = markup["inline_keyboard"][0][0]
    return button


def test_only_our_https_pages_in_private_chats_become_mini_apps() -> None:
    page = "https://onboard.example.com/pin/abc"
    assert buttons(page, in_app=True, private=True) == {"text": "Open", "web_app": {"url": page}}
    assert buttons(page, in_app=True, private=False) == {"text": "Open", "url": page}
    assert buttons(page, in_app=False, private=True) == {"text": "Open", "url": page}
    local = "http://127.0.0.1:8080/pin/abc"  # Telegram accepts only HTTPS for a Mini App
    assert buttons(local, in_app=True, private=True) == {"text": "Open", "url": local}
