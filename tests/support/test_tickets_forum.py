"""Filing a ticket, relaying both ways in a forum topic, closing and reopening from both
sides, the ticket list and a ticket's dialogue — through the Telegram transport, in en and pl.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.support import card, texts
from dialogs import commands
from dialogs.flow import FLOWS_DIR, load_flow
from dialogs.i18n import LANGUAGE_NAMES
from dialogs.steps import ticket_dialogue as dialogue
from dialogs.steps import ticket_files
from dialogs.steps import tickets as steps
from tests.bot.harness import Customer, RunningBot
from tests.support.helpers import GROUP, Agent, copies_to, group_texts, register, support_bot, t

TICKET_FLOW = load_flow(FLOWS_DIR / "support-ticket.yaml")


def flow_text(step: str) -> str:
    """A step's text from the shipped flow file (maintainers may reword it)."""
    text = getattr(TICKET_FLOW.steps[step].options, "text", None)
    assert isinstance(text, str)
    return text


HOSTILE_TITLE = "Router <b>down</b> & out"
HOSTILE_TEXT = "It reboots & <i>hangs</i> at boot"
MB = 1024 * 1024


async def file_first_ticket(bot: RunningBot, alice: Customer) -> None:
    locale = alice.language_code
    assert await alice.send("/ticket") == [t(bot, flow_text("line"), locale)]
    labels = [b["text"] for b in alice.keyboard]
    assert labels[-1] == t(bot, steps.NOTHING_SPECIFIC, locale)
    line = next(label for label in labels if "FCW2231L0AB" in label)
    assert "A123456" in line
    assert await alice.press(line) == [t(bot, flow_text("title"), locale)]
    assert await alice.send(HOSTILE_TITLE) == [t(bot, flow_text("description"), locale)]
    assert await alice.send(HOSTILE_TEXT) == [t(bot, flow_text("files"), locale)]

    photo = await alice.deliver(bot.api.photo(alice.user_id, language_code=locale))
    assert photo == [
        t(bot, ticket_files.FILE_RECEIVED, locale, name=t(bot, ticket_files.PHOTO, locale))
    ]
    log = bot.api.document(alice.user_id, "router.log", "text/plain", 2048, language_code=locale)
    assert await alice.deliver(log) == [
        t(bot, ticket_files.FILE_RECEIVED, locale, name="router.log")
    ]
    huge = bot.api.document(alice.user_id, "dump.bin", "application/octet-stream", 25 * MB)
    refused = await alice.deliver(huge)
    size = "25.0" if locale == "en" else "25,0"  # Babel's number format
    assert refused == [t(bot, ticket_files.FILE_TOO_BIG, locale, size=size, limit=20)]

    assert await alice.press(t(bot, ticket_files.CONTINUE, locale)) == [
        t(bot, flow_text("cc"), locale)
    ]
    assert await alice.send("boss@, nope") == [
        t(bot, steps.CC_INVALID, locale, invalid="boss@, nope")
    ]
    filed = await alice.send("Boss@Example.com, it@example.com")
    assert filed == [t(bot, texts.FILED, locale, number=1, title=HOSTILE_TITLE)]


def check_topic_and_card(bot: RunningBot, locale: str) -> int:
    (topic,) = bot.api.calls_to("createForumTopic")
    assert topic.params["name"] == f"#1 {HOSTILE_TITLE}"  # a topic name is plain text
    thread = int(topic.result["message_thread_id"])
    card_message = group_texts(bot)[0]
    assert card_message["message_thread_id"] == thread
    body = card_message["text"]
    assert html.escape(HOSTILE_TITLE, quote=False) in body  # escaped in the HTML card
    assert html.escape(HOSTILE_TEXT, quote=False) in body
    assert "<b>down</b>" not in body
    assert "<i>hangs</i>" not in body
    for value in ("A123456", "FCW2231L0AB", "boss@example.com, it@example.com"):
        assert value in body
    assert "Przykład Sp. z o.o." in body
    assert LANGUAGE_NAMES[locale] in body
    assert card.CUSTOMER in body  # labels in SUPPORT_LOCALE (en)
    assert card.DEVICE in body
    copied = copies_to(bot, GROUP)
    assert len(copied) == 2  # the photo and the log; the 25 MB file was refused
    assert all(c["message_thread_id"] == thread for c in copied)
    return thread


@pytest.mark.parametrize("locale", ["en", "pl"])
async def test_a_ticket_in_a_forum_topic_both_ways(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        alice = bot.customer(user_id=4242, language_code=locale)
        assert await alice.send("/ticket") == [t(bot, commands.NOT_REGISTERED, locale)]
        await register(alice)
        await file_first_ticket(bot, alice)
        thread = check_topic_and_card(bot, locale)
        agent = Agent(bot)

        # The agent answers in the topic: text, then a file.
        await agent.say("Please update the firmware", thread_id=thread, is_topic=True)
        assert alice.read_new() == [
            t(
                bot,
                texts.AGENT_REPLY,
                locale,
                number=1,
                title=HOSTILE_TITLE,
                text="Please update the firmware",
            )
        ]
        await bot.app.effects.courier.drain()  # the answer, by e-mail, to the CC list
        copies = [(m.to, subject, body) for m, subject, body in bot.delivery.sent]
        assert [to for to, _, _ in copies] == ["boss@example.com", "it@example.com"]
        expected = t(
            bot,
            texts.CC_BODY,
            locale,
            number=1,
            title=HOSTILE_TITLE,
            text="Please update the firmware",
        )
        assert all(html.unescape(expected) == body for _, _, body in copies)
        subject = html.unescape(t(bot, texts.CC_SUBJECT, locale, number=1, title=HOSTILE_TITLE))
        assert all(got == subject for _, got, _ in copies)
        await agent.send_file(
            file_name="fw.bin", caption="v2 <new>", thread_id=thread, is_topic=True
        )
        (to_alice,) = copies_to(bot, alice.user_id)
        assert to_alice["from_chat_id"] == GROUP
        header = t(bot, texts.AGENT_FILE, locale, number=1)
        assert to_alice["caption"] == f"{header}\n\nv2 &lt;new&gt;"

        # The customer's follow-ups reach the same topic.
        assert await alice.send("Updated & rebooted") == [t(bot, texts.SENT, locale, number=1)]
        follow_up = group_texts(bot)[-1]
        assert follow_up["message_thread_id"] == thread
        assert "Updated &amp; rebooted" in follow_up["text"]
        screenshot = bot.api.photo(alice.user_id, language_code=locale)
        assert await alice.deliver(screenshot) == [t(bot, texts.SENT, locale, number=1)]
        assert copies_to(bot, GROUP)[-1]["message_thread_id"] == thread

        # The agent closes; writing into the closed ticket offers to reopen it.
        await agent.say("/close", thread_id=thread, is_topic=True)
        assert alice.read_new() == [
            t(bot, texts.CLOSED_BY_AGENT, locale, number=1, title=HOSTILE_TITLE)
        ]
        assert group_texts(bot)[-1]["text"] == t(
            bot, texts.GROUP_CLOSED, "en", number=1, name="Dana"
        )
        assert await alice.send("Broken again") == [t(bot, dialogue.CLOSED_OFFER, locale, number=1)]
        assert await alice.press(t(bot, dialogue.REOPEN, locale)) == [
            t(bot, dialogue.REOPENED, locale, number=1),
            t(bot, texts.SENT, locale, number=1),
        ]
        notes = [m["text"] for m in group_texts(bot)[-2:]]
        assert notes[0] == t(bot, texts.GROUP_CUSTOMER_REOPENED, "en", number=1)
        assert "Broken again" in notes[1]

        # A second ticket; /tickets lists newest first; a ticket's dialogue is newest on top.
        await alice.send("/ticket")
        await alice.press(t(bot, steps.NOTHING_SPECIFIC, locale))
        await alice.send("Invoice question")
        await alice.send("Where is my invoice?")
        await alice.press(t(bot, ticket_files.CONTINUE, locale))
        await alice.press(t(bot, steps.SKIP, locale))
        assert await alice.send("/tickets") == [t(bot, dialogue.LIST, locale)]
        labels = [b["text"] for b in alice.keyboard]
        assert [label.split(" · ")[0] for label in labels] == ["#2", "#1"]
        view = await alice.press(labels[1])
        assert view[1] == t(bot, dialogue.DIALOGUE, locale, number=1, title=HOSTILE_TITLE)
        shown = view[0]
        newest, oldest = (
            shown.index("Broken again"),
            shown.index(html.escape(HOSTILE_TEXT, quote=False)),
        )
        assert shown.index("Please update the firmware") < oldest
        assert newest < shown.index("Please update the firmware")

        # The customer closes, the agent reopens; each side is told.
        assert await alice.press(t(bot, dialogue.CLOSE, locale)) == [
            t(bot, dialogue.CLOSED_BY_YOU, locale, number=1)
        ]
        assert group_texts(bot)[-1]["text"] == t(bot, texts.GROUP_CUSTOMER_CLOSED, "en", number=1)
        await agent.say("/reopen", thread_id=thread, is_topic=True)
        assert alice.read_new() == [
            t(bot, texts.REOPENED_BY_AGENT, locale, number=1, title=HOSTILE_TITLE)
        ]

        async with bot.app.db.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT author, author_name, text FROM ticket_messages "
                        "WHERE ticket_id = 1 ORDER BY id"
                    )
                )
            ).all()
            status = await connection.scalar(text("SELECT status FROM tickets WHERE id = 1"))
        assert [r[0] for r in rows] == [
            "customer",
            "agent",
            "agent",
            "customer",
            "customer",
            "customer",
        ]
        assert rows[1][1] == "Dana"
        assert rows[0][2] == HOSTILE_TEXT
        assert status == "open"
        assert await alice.send("/help") == [
            t(bot, commands.HELP, locale),
            t(bot, dialogue.DIALOGUE, locale, number=1, title=HOSTILE_TITLE),
        ]
