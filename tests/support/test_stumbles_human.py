"""Issue 17, item 6 (in part): the "Talk to a person" button of a flow files a ticket titled
in the agents' language (``SUPPORT_LOCALE``), not with the button's internal value ``human``,
and with no empty first entry — through the Telegram transport, the shipped flows and a forum
group on the fake Bot API."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.support import desk
from dialogs import commands
from storage.tickets import SqlTickets
from tests.bot.harness import running_bot
from tests.bot.test_bg_flow_telegram import t
from tests.conftest import make_settings
from tests.support.helpers import GROUP

pytestmark = pytest.mark.stumbles


@pytest.mark.parametrize("locale", ["bg", "de", "en"])
async def test_the_talk_to_a_person_button_files_a_titled_ticket(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    settings = make_settings(tmp_path, redis_url=app_redis, support_chat_id=GROUP)
    async with running_bot(settings) as bot:
        bot.api.supergroup(GROUP, title="Support", forum=True)
        alice = bot.customer(language_code=locale)
        await alice.send("/start")
        await alice.send("175074752")
        await alice.send("someone@example.com")  # no match: the person button is offered
        assert await alice.press(t("Talk to a person", locale)) == [t(commands.HUMAN, locale)]
        (topic,) = bot.api.calls_to("createForumTopic")
        assert topic.params["name"] == f"#1 {desk.HELP_TITLE}"  # SUPPORT_LOCALE is en
        ticket = await SqlTickets(bot.app.db).record(number=1)
        assert ticket is not None
        assert ticket.title == desk.HELP_TITLE
        dialogue = await SqlTickets(bot.app.db).entries(ticket.ref)
        assert all(entry.text for entry in dialogue)  # no empty first entry
