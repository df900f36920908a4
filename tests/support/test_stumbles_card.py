"""Issue 17, item 8: the ticket card names the Telegram user (name and @username, escaped),
not only their number — through the Telegram transport, the fake Bot API answering
``getChat`` for the private chat as Telegram does."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from bot.support import card
from dialogs import help_ticket
from tests.support.helpers import group_texts, support_bot, t

pytestmark = pytest.mark.stumbles

HOSTILE_NAME, LAST = "<b>Ann</b> & Co", "Kovács"


@pytest.mark.parametrize("forum", [True, False])
async def test_the_card_shows_the_users_name_and_username_escaped(
    tmp_path: Path, app_redis: str, forum: bool
) -> None:
    async with support_bot(tmp_path, app_redis, forum=forum) as bot:
        ann = bot.customer(user_id=4343, language_code="hu")
        update = bot.api.command(
            ann.user_id,
            "/human",
            language_code="hu",
            first_name=HOSTILE_NAME,
            last_name=LAST,
            username="ann_k",
        )
        assert await ann.deliver(update) == [t(bot, help_ticket.HUMAN_WRITE, "hu")]
        (posted,) = group_texts(bot)
        body = posted["text"]
        user_line = next(line for line in body.splitlines() if card.TELEGRAM_USER in line)
        shown = html.escape(f"{HOSTILE_NAME} {LAST} (@ann_k) · 4343", quote=False)
        assert user_line.endswith(shown)
        assert "<b>Ann</b>" not in body


async def test_a_user_without_username_is_shown_by_name(tmp_path: Path, app_redis: str) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        bob = bot.customer(user_id=4344)
        await bob.deliver(bot.api.command(bob.user_id, "/human", first_name="Bob"))
        (posted,) = group_texts(bot)
        assert "Bob · 4344" in posted["text"]
