"""Issue 17, item 9: the times in a ticket's dialogue are shown in the customer's time zone —
their language's country by default, ``TIME_ZONES`` to change it — with the zone named in
their language, no longer in UTC without a zone. Through the Telegram transport: register,
file a ticket, an agent answers in the forum topic, ``/tickets`` opens the dialogue."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from bot.config import load_settings
from dialogs.errors import ConfigError
from storage.tickets import SqlTickets
from tests.support.helpers import Agent, register, support_bot
from tests.support.test_tickets_forum import file_first_ticket

pytestmark = pytest.mark.stumbles


def as_read(at: float, zone: str, locale: str) -> str:
    moment = datetime.fromtimestamp(at, ZoneInfo(zone))
    when = format_datetime(moment, "short", locale=locale)
    return f"{when} ({format_datetime(moment, 'zzzz', locale=locale)})"


@pytest.mark.parametrize(
    ("locale", "setting", "zone"),
    [
        ("pl", "", "Europe/Warsaw"),
        ("en", "", "UTC"),
        ("en", "en=America/New_York, pl=Europe/Warsaw", "America/New_York"),
    ],
)
async def test_ticket_times_are_in_the_customers_zone_and_name_it(
    tmp_path: Path, app_redis: str, locale: str, setting: str, zone: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True, time_zones=setting) as bot:
        alice = bot.customer(language_code=locale)
        await register(alice)
        await file_first_ticket(bot, alice)
        thread = int(bot.api.calls_to("createForumTopic")[0].result["message_thread_id"])
        await Agent(bot).say("Please update the firmware.", thread_id=thread, is_topic=True)

        await alice.send("/tickets")
        (shown, _) = await alice.press(alice.keyboard[0]["text"])
        store = SqlTickets(bot.app.db)
        ticket = await store.record(number=1)
        assert ticket is not None
        entries = await store.entries(ticket.ref)
        assert len(entries) >= 2
        for entry in entries:
            assert as_read(entry.at, zone, locale) in shown
        if zone != "UTC":
            utc = format_datetime(datetime.fromtimestamp(entries[0].at, ZoneInfo("UTC")), "short")
            assert utc not in shown


def test_a_wrong_zone_is_refused_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match=r"(?i)time_zones") as refused:
        load_settings(_env_file=None, time_zones="pl=Europe/Warschau")
    assert "Europe/Warschau" in str(refused.value)
