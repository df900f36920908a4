"""The commands every flow understands, and recovering from mistakes, through Telegram."""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import text

from dialogs import commands, engine, help_ticket, navigation
from dialogs.steps import basic
from tests.bot.harness import running_bot
from tests.bot.test_bg_flow_telegram import EIK, EIK_INVALID, EMAIL, INTRO, t
from tests.conftest import make_settings
from tests.notice import notice_text


async def test_back_reasks_the_previous_question_with_the_answer_kept(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        alice = bot.customer()
        await alice.send("/start")
        await alice.send("175074752")
        assert await alice.send("/back") == [
            t(navigation.PREVIOUS_ANSWER, "en", answer="175074752"),
            EIK,
        ]
        assert await alice.send("/back") == [t(navigation.NOTHING_BEFORE, "en"), EIK]
        assert await alice.send("175074752") == [EMAIL]


async def test_language_switch_reasks_in_the_new_language(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        alice = bot.customer(language_code="pt-BR")  # unsupported: English
        assert await alice.send("/start") == [INTRO, notice_text("en"), EIK]
        assert await alice.send("/language") == [t(commands.CHOOSE_LANGUAGE, "en")]
        assert [b["text"] for b in alice.keyboard][:3] == ["English", "Български", "Magyar"]
        assert await alice.press("Magyar") == [
            t(commands.LANGUAGE_SET, "hu", language="Magyar"),
            t(EIK, "hu"),
        ]
        assert await alice.send("1") == [t(EIK_INVALID, "hu")]


async def test_region_is_stripped_from_the_client_language(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        assert (await bot.customer(language_code="de-AT").send("/start"))[-1] == t(EIK, "de")


async def test_help_cancel_and_unknown_commands(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        alice = bot.customer()
        assert await alice.send("/help") == [t(commands.HELP, "en")]
        await alice.send("/start")
        assert await alice.send("/help") == [t(commands.HELP, "en"), EIK]
        assert await alice.send("/teleport") == [t(commands.UNKNOWN_COMMAND, "en"), EIK]
        assert await alice.send("/cancel") == [t(commands.CANCELLED, "en")]
        assert await alice.send("hello?") == [t(engine.IDLE, "en")]


async def test_human_records_the_request_with_context(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        alice = bot.customer(language_code="bg")
        await alice.send("/start")
        await alice.send("175074752")
        assert await alice.send("/human my e-mail changed") == [t(help_ticket.HUMAN_PAUSED, "bg")]
        async with bot.app.db.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT flow, step, locale, reason FROM human_requests")
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("bg-subscription-portal", "email", "bg", "my e-mail changed")
        ]


async def test_mistakes_are_recoverable_and_counted(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        alice = bot.customer()
        await alice.send("/start")
        assert await alice.send("1") == [EIK_INVALID]
        assert await alice.send("2") == [EIK_INVALID]
        assert await alice.send("3") == [EIK_INVALID, t(engine.NEED_HELP, "en")]
        photo = bot.api.photo(alice.user_id)
        assert await alice.deliver(photo) == [t(basic.NOT_TEXT, "en")]
        assert await alice.send("175074752") == [EMAIL]


async def test_a_stale_button_is_answered_with_the_current_question(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        alice = bot.customer()
        await alice.send("/start")
        await alice.send("175074752")
        assert await alice.send("nobody@example.com")
        await alice.press("Enter the details again")
        update = bot.api.callback(alice.user_id, "s:no_match:retry")
        assert await alice.deliver(update) == [t(engine.STALE_BUTTON, "en"), EIK]
        assert bot.api.calls_to("answerCallbackQuery")


async def test_the_conversation_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with running_bot(settings) as bot:
        alice = bot.customer(user_id=99)
        await alice.send("/start")
        await alice.send("175074752")
    async with running_bot(settings) as bot:
        bot.api.state._update_ids = itertools.count(200000001)  # Telegram's ids keep growing
        alice = bot.customer(user_id=99)
        assert await alice.send("/start") == [t(commands.RESUME, "en"), EMAIL]


async def test_housekeeping_forgets_idle_rate_limit_counters(tmp_path: Path) -> None:
    from bot.app import build_app
    from storage.limits import SqlSendLimiter

    now = [1_800_000_000.0]
    settings = make_settings(tmp_path, retain_counters_hours=24)
    app = await build_app(settings, clock=lambda: now[0])
    idle = 24 * 3600
    try:
        limiter = SqlSendLimiter(app.db)
        await limiter.acquire("old", now=now[0] - idle - 1, limit=5, window=600)
        await limiter.acquire("recent", now=now[0] - 60, limit=5, window=600)
        await app.housekeeping()
        async with app.db.connect() as connection:
            rows = (await connection.execute(text("SELECT subject FROM send_limits"))).all()
        assert [r[0] for r in rows] == ["recent"]
    finally:
        await app.close()
