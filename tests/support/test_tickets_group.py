"""A plain support group (no topics: the card and replies threaded on it), /human from inside
a flow, and a callback request with its 2-day deadline."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.support import card, texts
from dialogs import help_ticket
from dialogs.effects import RecordHuman
from dialogs.events import ConversationKey
from dialogs.ports import HumanRequest, TicketKind
from dialogs.steps import ticket_files
from dialogs.steps import tickets as steps
from tests.support.helpers import GROUP, NIP, Agent, group_texts, register, support_bot, t

DAY = 86_400


async def test_a_plain_group_threads_replies_on_the_card(tmp_path: Path) -> None:
    async with support_bot(tmp_path, None, forum=False) as bot:
        alice = bot.customer(user_id=4343, language_code="de")
        await register(alice)
        await alice.send("/ticket")
        await alice.press(t(bot, steps.NOTHING_SPECIFIC, "de"))
        await alice.send("No login")
        await alice.send("The portal says & <error>")
        await alice.press(t(bot, ticket_files.CONTINUE, "de"))
        assert await alice.press(t(bot, steps.SKIP, "de")) == [
            t(bot, texts.FILED, "de", number=1, title="No login")
        ]
        assert not bot.api.calls_to("createForumTopic")  # getChat said: not a forum
        (card_message,) = group_texts(bot)
        assert "message_thread_id" not in card_message
        card_id = next(
            int(c.result["message_id"])
            for c in bot.api.calls_to("sendMessage")
            if c.params["chat_id"] == GROUP
        )
        assert "The portal says &amp; &lt;error&gt;" in card_message["text"]

        agent = Agent(bot)
        await agent.say("Which browser?", reply_to=card_id)
        assert alice.read_new() == [
            t(bot, texts.AGENT_REPLY, "de", number=1, title="No login", text="Which browser?")
        ]
        twice = bot.api.group_message(
            GROUP, agent.user_id, "Version?", first_name=agent.name, reply_to=card_id
        )
        await agent.deliver(twice)
        await bot.transport.process_json(twice)  # a webhook redelivers it: relayed once
        assert alice.read_new() == [
            t(bot, texts.AGENT_REPLY, "de", number=1, title="No login", text="Version?")
        ]
        assert await alice.send("Firefox") == [t(bot, texts.SENT, "de", number=1)]
        follow_up = [c for c in bot.api.calls_to("sendMessage") if c.params["chat_id"] == GROUP][-1]
        assert "Firefox" in follow_up.params["text"]
        assert follow_up.params["reply_parameters"]["message_id"] == card_id
        # A reply to the relayed follow-up (not to the card) still finds the ticket.
        await agent.say("Clear the cache, please.", reply_to=int(follow_up.result["message_id"]))
        assert alice.read_new() == [
            t(
                bot,
                texts.AGENT_REPLY,
                "de",
                number=1,
                title="No login",
                text="Clear the cache, please.",
            )
        ]
        await agent.say("/close", reply_to=card_id)
        assert alice.read_new() == [t(bot, texts.CLOSED_BY_AGENT, "de", number=1, title="No login")]
        await agent.say("unrelated chatter in the group")  # no ticket: nothing happens
        assert alice.read_new() == []


async def test_human_from_inside_a_flow_opens_a_help_ticket(tmp_path: Path, app_redis: str) -> None:
    async with support_bot(tmp_path, app_redis, forum=True) as bot:
        bob = bot.customer(user_id=4444, language_code="bg")
        await bob.send("/start")
        await bob.send(NIP)
        assert await bob.send("/human my <e-mail> changed") == [
            t(bot, help_ticket.HUMAN_PAUSED, "bg")
        ]
        (topic,) = bot.api.calls_to("createForumTopic")
        assert topic.params["name"] == "#1 my <e-mail> changed"
        body = group_texts(bot)[0]["text"]
        assert card.KINDS[TicketKind.HELP] in body
        assert "test-register" in body  # the flow
        assert "<b>Step:</b> email" in body  # where the customer was
        assert "Български" in body
        assert card.UNREGISTERED in body
        assert "my &lt;e-mail&gt; changed" in body
        async with bot.app.db.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT t.kind, r.flow, r.step FROM tickets t "
                        "JOIN human_requests r ON r.id = t.request_id"
                    )
                )
            ).one()
        assert tuple(row) == ("help", "test-register", "email")
        # An agent's answer reaches him in Bulgarian; /tickets lists the help ticket.
        await Agent(bot).say(
            "We will fix it", thread_id=int(topic.result["message_thread_id"]), is_topic=True
        )
        assert bob.read_new() == [
            t(
                bot,
                texts.AGENT_REPLY,
                "bg",
                number=1,
                title="my <e-mail> changed",
                text="We will fix it",
            )
        ]


async def test_a_callback_request_shows_its_two_day_deadline(tmp_path: Path) -> None:
    async with support_bot(tmp_path, None, forum=True) as bot:
        await register(bot.customer(user_id=4545, language_code="hu"))
        created = 1_800_000_000.0
        request = HumanRequest(
            key=ConversationKey(bot.api.bot_id, 4545, 4545),
            flow="hu-insurance-portal",
            step="callback",
            locale="hu",
            reason="",
            created_at=created,
            kind="callback",
            details={"phone": "+36 30 123 4567", "question": "Kárbejelentés <sürgős>"},
        )
        # The hu flow's callback branch emits this effect after its turn commits.
        await bot.app.effects.run((RecordHuman(request),))
        body = group_texts(bot)[0]["text"]
        assert card.KINDS[TicketKind.CALLBACK] in body
        assert f"<b>{card.CALL_BACK_BY}:</b> {card.moment(created + 2 * DAY, 'en')}" in body
        assert "+36 30 123 4567" in body
        assert "Kárbejelentés &lt;sürgős&gt;" in body
        assert "Przykład Sp. z o.o." in body  # the linked customer
        async with bot.app.db.connect() as connection:
            due = await connection.scalar(text("SELECT due_at FROM tickets"))
        assert due == created + 2 * DAY
