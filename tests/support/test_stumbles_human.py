"""Issue 17, item 6: the "Talk to a person" button of a flow files a ticket titled in the
agents' language (``SUPPORT_LOCALE``), not with the button's internal value ``human``, and
with no empty first entry; after /human mid-flow what the customer sends goes to that ticket
(reaching the agent), not to the paused question, until a button or a command takes them back
and the question is asked again — through the Telegram transport, the shipped flows and a
forum group on the fake Bot API."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.support import texts
from dialogs import commands, help_ticket
from storage.tickets import SqlTickets
from tests.bot.harness import Customer, running_bot
from tests.bot.test_bg_flow_telegram import EMAIL, EMAIL_INVALID, t
from tests.conftest import make_settings
from tests.support.helpers import GROUP, Agent, group_texts

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
        assert await alice.press(t("Talk to a person", locale)) == [
            t(help_ticket.HUMAN_PAUSED, locale)
        ]
        (topic,) = bot.api.calls_to("createForumTopic")
        assert topic.params["name"] == f"#1 {texts.HELP_TITLE}"  # SUPPORT_LOCALE is en
        ticket = await SqlTickets(bot.app.db).record(number=1)
        assert ticket is not None
        assert ticket.title == texts.HELP_TITLE
        dialogue = await SqlTickets(bot.app.db).entries(ticket.ref)
        assert all(entry.text for entry in dialogue)  # no empty first entry


def pressable(customer: Customer) -> list[str]:
    return [b["text"] for b in customer.keyboard]


@pytest.mark.parametrize("locale", ["bg", "pl", "en"])
async def test_after_human_mid_flow_messages_reach_the_agent_and_the_question_comes_back(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    settings = make_settings(tmp_path, redis_url=app_redis, support_chat_id=GROUP)
    async with running_bot(settings) as bot:
        bot.api.supergroup(GROUP, title="Support", forum=True)
        alice = bot.customer(language_code=locale)
        await alice.send("/start")
        assert await alice.send("175074752") == [t(EMAIL, locale)]
        assert await alice.send("/human") == [t(help_ticket.HUMAN_PAUSED, locale)]
        back = t(help_ticket.BACK_TO_QUESTION, locale)
        assert pressable(alice) == [back]  # the text names the button: it carries it

        question = "My e-mail changed, which one do I give?"
        assert await alice.send(question) == [t(texts.SENT, locale, number=1)]  # not the step's
        (topic,) = bot.api.calls_to("createForumTopic")
        thread = int(topic.result["message_thread_id"])
        in_topic = [m["text"] for m in group_texts(bot) if m.get("message_thread_id") == thread]
        assert any(question in text for text in in_topic)  # it reached the agents
        await Agent(bot).say("Use anna@example.com.", thread_id=thread, is_topic=True)
        (answer,) = alice.read_new()
        assert "Use anna@example.com." in answer

        assert await alice.press(back) == [t(EMAIL, locale)]  # the paused question again
        assert await alice.send("not an address") == [t(EMAIL_INVALID, locale)]  # the step's


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_a_command_or_a_closed_help_ticket_gives_the_question_back(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    settings = make_settings(tmp_path, redis_url=app_redis, support_chat_id=GROUP)
    async with running_bot(settings) as bot:
        bot.api.supergroup(GROUP, title="Support", forum=True)
        alice = bot.customer(language_code=locale)
        await alice.send("/start")
        await alice.send("175074752")
        await alice.send("/human")
        assert await alice.send("/start") == [t(commands.RESUME, locale), t(EMAIL, locale)]
        assert await alice.send("hello?") == [t(EMAIL_INVALID, locale)]

        await alice.send("/human")
        (_, topic) = bot.api.calls_to("createForumTopic")
        thread = int(topic.result["message_thread_id"])
        await Agent(bot).say("/close", thread_id=thread, is_topic=True)
        alice.read_new()
        assert await alice.send("hello?") == [t(EMAIL_INVALID, locale)]  # the ticket is closed


async def test_human_with_no_flow_running_sends_what_follows_to_the_ticket(
    tmp_path: Path, app_redis: str
) -> None:
    settings = make_settings(tmp_path, redis_url=app_redis, support_chat_id=GROUP)
    async with running_bot(settings) as bot:
        bot.api.supergroup(GROUP, title="Support", forum=True)
        bob = bot.customer(language_code="hu")
        assert await bob.send("/human") == [t(help_ticket.HUMAN_WRITE, "hu")]
        assert pressable(bob) == []
        assert await bob.send("Segítség kellene") == [t(texts.SENT, "hu", number=1)]
