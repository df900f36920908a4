"""The first call to the Bot API at start-up (``getMe``), with a clear word when it fails.

A token Telegram refuses is a setting to fix (exit 2). An API that cannot be reached is
usually passing (network, DNS, a local Bot API server still starting): a server process keeps
trying with backoff and says so once per try, in one line.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from dialogs.errors import ConfigError

log = logging.getLogger(__name__)
FIRST_WAIT, LONGEST_WAIT = 1.0, 60.0


async def connect(bot: Bot, base_url: str, *, first_wait: float = FIRST_WAIT) -> None:
    """``bot.initialize()`` until it works; raises :class:`ConfigError` for a refused token."""
    wait = first_wait
    while True:
        try:
            await bot.initialize()
        except InvalidToken:
            raise ConfigError(
                f"BOT_TOKEN was refused by the Bot API at {base_url}: "
                "copy the token again from @BotFather"
            ) from None
        except NetworkError as exc:
            log.error(
                "cannot reach the Bot API at %s (%s); trying again in %.0f s",
                base_url,
                exc,
                wait,
            )
            await asyncio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT)
        else:
            return
