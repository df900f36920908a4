"""The channel interface (bot/channels/base.py): what each messaging app gives the dispatcher."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.channels.base import Channel, Nowhere
from bot.channels.telegram.render import TelegramRenderer
from bot.channels.telegram.sender import TelegramSender
from bot.channels.terminal import TERMINAL_KEY, TerminalScreen
from dialogs.events import TELEGRAM
from dialogs.i18n import Catalogs
from dialogs.replies import Reply, Text

pytestmark = pytest.mark.layout


def telegram() -> TelegramSender:
    catalogs = Catalogs()
    return TelegramSender(Bot("123456:TEST-token"), TelegramRenderer(catalogs))


@pytest.mark.parametrize(
    ("exc", "passing", "final"),
    [
        (TimedOut(), True, False),
        (NetworkError("connection reset"), True, False),
        (BadRequest("Bad Request: can't parse entities"), False, True),
        (Forbidden("Forbidden: bot was blocked by the user"), False, False),
        (RuntimeError("a bug"), False, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_telegram_says_which_failures_pass(exc: Exception, passing: bool, final: bool) -> None:
    sender: Channel = telegram()
    assert (sender.passing(exc), sender.final(exc)) == (passing, final)


def test_names_are_the_channels_of_their_keys() -> None:
    screen = TerminalScreen(Catalogs(), out=lambda _line: None)
    assert telegram().name == TELEGRAM
    assert screen.name == TERMINAL_KEY.channel == "terminal"
    assert Nowhere().name not in {TELEGRAM, "terminal"}


async def test_the_terminal_prints_what_it_is_sent() -> None:
    lines: list[str] = []
    screen: Channel = TerminalScreen(Catalogs(), out=lines.append)
    await screen.send(TERMINAL_KEY.chat_id, [Reply(Text("<b>Hello</b>"))], "en")
    assert lines == ["Hello"]
    assert not screen.passing(OSError())
    assert not screen.final(OSError())
