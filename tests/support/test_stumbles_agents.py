"""Issue 17, item 7: every agent command gets an answer, an agent's file with a long caption
reaches the customer whole, a file that cannot be delivered is told to the agent, a file
answer without text is mailed to the CC list like a text answer, and a customer's follow-up the
agents' group refuses is not called "Added to ticket" — through the Telegram transport, a
forum group on the fake Bot API (which refuses captions over 1024 characters, as Telegram
does)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from bot.support import texts
from dialogs.help_ticket import HUMAN_WRITE
from dialogs.render import render
from dialogs.replies import say_n
from dialogs.steps import ticket_files
from tests.bot.harness import Customer, RunningBot
from tests.support.helpers import (
    GROUP,
    Agent,
    copies_to,
    group_texts,
    register,
    support_bot,
    t,
)
from tests.support.test_tickets_forum import HOSTILE_TITLE, file_first_ticket

pytestmark = pytest.mark.stumbles


async def help_ticket(bot: RunningBot, customer: Customer) -> int:
    assert await customer.send("/human") == [t(bot, HUMAN_WRITE, customer.language_code)]
    (topic,) = bot.api.calls_to("createForumTopic")
    return int(topic.result["message_thread_id"])


def group_notes(bot: RunningBot) -> list[str]:
    return [m["text"] for m in group_texts(bot)[1:]]  # after the card


async def test_close_twice_and_close_outside_a_ticket_are_answered(
    tmp_path: Path, app_redis: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(language_code="de")
        thread = await help_ticket(bot, alice)
        agent = Agent(bot)
        await agent.say("/close", thread_id=thread, is_topic=True)
        await agent.say("/close", thread_id=thread, is_topic=True)
        assert group_notes(bot)[-1] == t(bot, texts.GROUP_ALREADY_CLOSED, "en", number=1)
        await agent.say("/reopen", thread_id=thread, is_topic=True)
        await agent.say("/reopen", thread_id=thread, is_topic=True)
        assert group_notes(bot)[-1] == t(bot, texts.GROUP_ALREADY_OPEN, "en", number=1)

        stray = thread + 500  # a topic the agents opened themselves: no ticket
        await agent.say("/close", thread_id=stray, is_topic=True)
        answer = t(bot, texts.GROUP_NO_TICKET, "en", command="close")
        assert group_texts(bot)[-1]["text"] == answer
        assert group_texts(bot)[-1]["message_thread_id"] == stray


async def test_a_file_with_a_long_caption_reaches_the_customer_whole(
    tmp_path: Path, app_redis: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(language_code="pl")
        thread = await help_ticket(bot, alice)
        alice.read_new()
        long_text = "Instrukcja: " + "krok po kroku. " * 80  # over 1024 characters
        await Agent(bot).send_file(caption=long_text, thread_id=thread, is_topic=True)
        await bot.app.effects.courier.drain()
        (copied,) = copies_to(bot, alice.user_id)  # the file, with our line as its caption
        assert copied["caption"] == t(bot, texts.AGENT_FILE, "pl", number=1)
        (answer,) = alice.read_new()  # and the agent's whole text as an answer
        assert long_text.strip() in answer


async def test_4096_characters_each_way_arrive_whole(tmp_path: Path, app_redis: str) -> None:
    """A customer's 4,096-character follow-up no longer becomes 4,130 with our prefix (refused
    by Telegram while the customer read "Added"); an agent's 4,096-character answer is no
    longer cut with "…" and keeps its footer."""
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(user_id=4242, language_code="en")
        await register(alice)
        await file_first_ticket(bot, alice)
        thread = int(bot.api.calls_to("createForumTopic")[0].result["message_thread_id"])

        follow_up = ("Log line & more " * 256)[:4096]
        assert await alice.send(follow_up) == [t(bot, texts.SENT, "en", number=1)]
        posted = [m["text"] for m in group_texts(bot) if m.get("message_thread_id") == thread]
        pieces = [html.unescape(text.split(":\n", 1)[1]) for text in posted if ":\n" in text]
        assert "".join(pieces[-2:]) == follow_up
        assert all(len(text) <= 4096 for text in posted)

        answer = ("Step " * 820)[:4096]
        alice.read_new()
        await Agent(bot).say(answer, thread_id=thread, is_topic=True)
        told = alice.read_new()
        assert len(told) == 2
        footer = t(bot, texts.AGENT_REPLY, "en", number=1, title="X", text="").rsplit("\n", 1)[1]
        assert all(part.endswith(footer) for part in told)
        assert "…" not in "".join(told)
        assert "".join(part.split("\n\n")[1] for part in told) == answer


@pytest.mark.parametrize("locale", ["pl", "en"])
async def test_an_agents_file_without_text_is_mailed_to_cc_too(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(user_id=4242, language_code=locale)
        await register(alice)
        await file_first_ticket(bot, alice)  # CC: boss@example.com, it@example.com
        thread = int(bot.api.calls_to("createForumTopic")[0].result["message_thread_id"])
        agent = Agent(bot)
        await agent.send_file(file_name="fw-2.bin", thread_id=thread, is_topic=True)
        await agent.send_file(kind="photo", thread_id=thread, is_topic=True)
        await bot.app.effects.courier.drain()
        assert len(copies_to(bot, alice.user_id)) == 2  # both reached the customer
        mails = [(m.to, body) for m, _, body in bot.delivery.sent]
        assert [to for to, _ in mails] == ["boss@example.com", "it@example.com"] * 2
        files = render(say_n(texts.CC_FILES, 1), bot.app.catalogs, locale)
        document, photo = (
            html.unescape(
                t(bot, texts.CC_FILES_BODY, locale, number=1, title=HOSTILE_TITLE, names=name)
            ).replace("{files}", files)
            for name in ("fw-2.bin", t(bot, ticket_files.PHOTO, locale))
        )
        assert [body for _, body in mails] == [document, document, photo, photo]

        bot.api.block(alice.user_id)  # a file that cannot reach the customer: no CC mail
        await agent.send_file(file_name="fw-3.bin", thread_id=thread, is_topic=True)
        await bot.app.effects.courier.drain()
        assert len(bot.delivery.sent) == 4
        assert group_notes(bot)[-1] == t(bot, texts.GROUP_FILE_NOT_DELIVERED, "en", number=1)


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_a_follow_up_the_group_refuses_is_not_called_added(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(language_code=locale)
        await help_ticket(bot, alice)
        assert await alice.send("Still there?") == [t(bot, texts.SENT, locale, number=1)]
        bot.api.block(GROUP)  # e.g. the bot was removed from the agents' group
        refused = [t(bot, texts.NOT_PASSED_ON, locale, number=1)]
        assert await alice.send("Hello again?") == refused
        assert await alice.deliver(bot.api.photo(alice.user_id, language_code=locale)) == refused
        bot.api.blocked.discard(GROUP)
        assert await alice.send("And now?") == [t(bot, texts.SENT, locale, number=1)]


async def test_an_answer_that_cannot_reach_the_customer_is_told_to_the_agent(
    tmp_path: Path, app_redis: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(user_id=4242, language_code="en")
        await register(alice)
        await file_first_ticket(bot, alice)  # CC: boss@example.com, it@example.com
        thread = int(bot.api.calls_to("createForumTopic")[0].result["message_thread_id"])
        agent = Agent(bot)
        bot.api.fail_next("sendMessage", 400)  # Telegram refuses the answer to the customer
        await agent.say("Please restart the router.", thread_id=thread, is_topic=True)
        await bot.app.effects.courier.drain()
        assert group_notes(bot)[-1] == t(bot, texts.GROUP_ANSWER_NOT_DELIVERED, "en", number=1)
        assert bot.delivery.sent == []  # no CC copy of an answer the customer never got
        await agent.say("Please restart the router.", thread_id=thread, is_topic=True)
        await bot.app.effects.courier.drain()
        assert "Please restart the router." in alice.read_new()[-1]
        assert len(bot.delivery.sent) == 2  # now the CC list has it


async def test_a_ticket_the_group_could_not_take_just_now_reaches_it_later(
    tmp_path: Path, app_redis: str
) -> None:
    """The ticket is an owed effect: a 502 from Telegram while its topic is made is tried
    again, so the agents see it (once) instead of a ticket that never reaches the group."""
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(user_id=4242, language_code="en")
        bot.api.fail_next("createForumTopic", 502)
        assert await alice.send("/human") == [t(bot, HUMAN_WRITE, "en")]
        made = [c for c in bot.api.calls_to("createForumTopic") if c.status == 200]
        assert len(made) == 1  # tried again after the 502: one topic in the end
        assert len(group_texts(bot)) == 1  # its card, posted once
