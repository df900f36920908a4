"""The fake Bot API against python-telegram-bot's real HTTP transport and the captures."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import telegram
from aiohttp import web
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

try:  # tests/ may or may not be a package
    from .fakebotapi import FakeBotApi
except ImportError:
    from fakebotapi import FakeBotApi  # type: ignore[import-not-found,no-redef]

SAMPLES = Path(__file__).resolve().parent / "data" / "telegram"
USER = 996202131
GROUP = -1001989718457
TOKEN = "123456:TEST"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def shape(value: Any) -> Any:
    """Field names in order, nesting and JSON types: what must match a capture."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="captures not available")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        TOKEN, base_url=f"{api.base_url}/bot", base_file_url=f"{api.base_url}/file/bot"
    ) as client:
        yield client


@pytest.fixture
async def http(api: FakeBotApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api.base_url}/bot{TOKEN}") as client:
        yield client


INLINE = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Yes", callback_data="consent:yes")],
        [InlineKeyboardButton("Terms", url="https://example.com/terms")],
    ]
)
SHARE_PHONE = ReplyKeyboardMarkup(
    [[KeyboardButton("Share my phone", request_contact=True)]],
    resize_keyboard=True,
    one_time_keyboard=True,
)


# -- getMe, sendMessage -------------------------------------------------------------------------


async def test_get_me_uses_the_token_id(api: FakeBotApi, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "onboard_test_bot")
    assert api.calls[0].method == "getMe"  # Bot.initialize() verified the token


async def test_send_message_round_trips_keyboards(api: FakeBotApi, bot: telegram.Bot) -> None:
    first = await bot.send_message(USER, "Do you agree?", reply_markup=INLINE)
    second = await bot.send_message(USER, "Your phone, please", reply_markup=SHARE_PHONE)

    assert second.message_id == first.message_id + 1
    assert first.from_user is not None
    assert first.from_user.id == 123456
    assert first.reply_markup == INLINE
    assert second.reply_markup is None  # Telegram echoes inline keyboards only
    inline, reply = api.sent_messages(USER)
    assert inline["chat_id"] == USER
    assert inline["text"] == "Do you agree?"
    assert inline["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "consent:yes"}],
            [{"text": "Terms", "url": "https://example.com/terms"}],
        ]
    }
    assert reply["reply_markup"] == {
        "keyboard": [[{"text": "Share my phone", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


async def test_forum_topics_and_thread_ids(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.supergroup(GROUP, title="kiiiosk.store", forum=True)
    topic = await bot.create_forum_topic(GROUP, "#1 Visitor")
    other = await bot.create_forum_topic(GROUP, "#2 Visitor")
    assert other.message_thread_id > topic.message_thread_id
    assert topic.icon_color == 7322096

    sent = await bot.send_message(GROUP, "New ticket", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id
    assert sent.is_topic_message
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.forum_topic_created is not None
    assert api.sent_messages(GROUP)[0]["message_thread_id"] == topic.message_thread_id
    with pytest.raises(BadRequest, match=r"(?i)not a forum"):
        await bot.create_forum_topic(-1002366990567, "no topics here")


# -- updates ------------------------------------------------------------------------------------


async def test_get_updates_parses_every_builder(api: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.send_message(USER, "Choose:", reply_markup=INLINE)
    api.supergroup(GROUP, forum=True)
    topic = await bot.create_forum_topic(GROUP, "#7 Alex")
    built = [
        api.text(USER, "hello"),
        api.command(USER, "/start", "dXNlckBleGFtcGxlLmNvbQ=="),
        api.callback(USER, "consent:yes"),
        api.contact(USER, "+998900000000"),
        api.document(USER, "passport.pdf", "application/pdf", 2048),
        api.photo(USER),
        api.group_message(GROUP, 777, "taking it", thread_id=topic.message_thread_id),
    ]
    for update in built:
        api.push(update)

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [u["update_id"] for u in built]
    parsed = [Update.de_json(u, bot) for u in built]
    assert [u.to_dict() for u in updates] == [u.to_dict() for u in parsed]
    text, start, press, contact, document, photo, topic_msg = updates

    assert text.message
    assert text.message.text == "hello"
    assert start.message
    assert start.message.parse_entities(["bot_command"]) == {
        MessageEntity("bot_command", 0, 6): "/start"
    }
    assert press.callback_query
    assert press.callback_query.data == "consent:yes"
    assert press.callback_query.id.isdigit()
    assert isinstance(press.callback_query.message, telegram.Message)
    assert press.callback_query.message.reply_markup == INLINE
    assert int(press.callback_query.chat_instance) < 2**63
    assert contact.message
    assert contact.message.contact
    assert contact.message.contact.user_id == USER
    assert document.message
    assert document.message.document
    assert document.message.document.file_name == "passport.pdf"
    assert "AxkBAA" in document.message.document.file_id
    assert photo.message
    assert [p.width for p in photo.message.photo] == [40, 144, 360, 576]
    assert topic_msg.message
    assert topic_msg.message.is_topic_message
    assert topic_msg.message.message_thread_id == topic.message_thread_id
    assert topic_msg.message.reply_to_message is not None
    assert topic_msg.message.reply_to_message.forum_topic_created is not None


async def test_third_party_and_anonymous_contacts(api: FakeBotApi) -> None:
    friend = api.contact(USER, "+15550001111", contact_user_id=42, contact_first_name="Sam")
    anonymous = api.contact(USER, "+15550002222", contact_user_id=None)
    assert friend["message"]["contact"]["user_id"] == 42
    assert "user_id" not in anonymous["message"]["contact"]


async def test_group_reply_without_topics(api: FakeBotApi, bot: telegram.Bot) -> None:
    group = -1002366990567
    prompt = await bot.send_message(group, "Ticket #5 solved")
    update = api.group_message(group, 471057601, "can you explain?", reply_to=prompt.message_id)
    message = update["message"]
    assert message["message_thread_id"] == prompt.message_id
    assert message["reply_to_message"]["text"] == "Ticket #5 solved"
    assert "is_topic_message" not in message
    assert "is_forum" not in message["chat"]


async def test_offset_confirms_updates(api: FakeBotApi, bot: telegram.Bot) -> None:
    for n in range(3):
        api.push(api.text(USER, f"m{n}"))
    first = await bot.get_updates(timeout=0)
    assert len(first) == 3
    assert len(await bot.get_updates(timeout=0)) == 3  # not confirmed yet
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
    api.push(api.text(USER, "later"))
    [later] = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert later.message
    assert later.message.text == "later"
    api.push(api.text(USER, "last"))
    [last] = await bot.get_updates(offset=-1, timeout=0)
    assert last.message
    assert last.message.text == "last"
    assert (await bot.get_webhook_info()).pending_update_count == 1


async def test_allowed_updates_filter_like_telegram(api: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.send_message(USER, "Choose:", reply_markup=INLINE)
    api.push(api.callback(USER, "consent:yes"))
    api.push(api.text(USER, "typed"))
    [update] = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert update.message
    assert update.message.text == "typed"
    api.push(api.callback(USER, "consent:yes"))
    [press] = await bot.get_updates(offset=update.update_id + 1, allowed_updates=[])
    assert press.callback_query is not None


async def test_long_poll_wakes_on_push_and_caps_the_wait(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=30) == ()
    assert 0.9 <= time.monotonic() - started < 3

    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    api.push(api.text(USER, "wake up"))
    [update] = await poll
    assert time.monotonic() - started < 0.5
    assert update.message
    assert update.message.text == "wake up"


# -- faults -------------------------------------------------------------------------------------


async def test_429_raises_retry_after(
    api: FakeBotApi, bot: telegram.Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, PTB 22 warns (PTBDeprecationWarning) while building RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(USER, "hi again")
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]
    assert [m["text"] for m in api.sent_messages(USER)] == ["hi again"]


async def test_403_and_400_faults(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", 403)
    api.fail_next("sendMessage", 400)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "one")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "two")
    api.block(USER)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "typing")


async def test_wrong_token_is_rejected(api: FakeBotApi) -> None:
    wrong = telegram.Bot("999:WRONG", base_url=f"{api.base_url}/bot")
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:
        await wrong.shutdown()


async def test_raw_protocol(api: FakeBotApi, http: httpx.AsyncClient) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    as_json = await http.post(
        "/sendMessage", json={"chat_id": USER, "text": "123", "reply_markup": markup}
    )
    as_query = await http.get("/SENDMESSAGE", params={"chat_id": str(USER), "text": "q"})
    as_form = await http.post(
        "/sendMessage", data={"chat_id": str(USER), "text": "f", "reply_markup": json.dumps(markup)}
    )
    assert [r.status_code for r in (as_json, as_query, as_form)] == [200, 200, 200]
    assert as_json.json()["result"]["reply_markup"] == markup
    json_params, query_params, form_params = api.sent_messages(USER)
    assert json_params["text"] == "123"  # text is never JSON-decoded
    assert query_params["chat_id"] == USER
    assert form_params["reply_markup"] == markup

    unknown = await http.post("/sendTelepathy")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    async with httpx.AsyncClient(base_url=api.base_url) as raw:
        wrong = await raw.get("/bot654321:NOPE/getMe")
        malformed = await raw.get("/botnonsense/getMe")
    assert (wrong.status_code, wrong.json()["description"]) == (401, "Unauthorized")
    assert malformed.status_code == 404


@needs_samples
async def test_error_envelopes_match_captures(api: FakeBotApi, http: httpx.AsyncClient) -> None:
    for status, name in [
        (429, "error_429_retry_after.json"),
        (403, "error_403_blocked.json"),
        (400, "error_400_bad_request.json"),
    ]:
        api.fail_next("sendMessage", status, retry_after=2282)
        reply = await http.post("/sendMessage", data={"chat_id": USER, "text": "x"})
        assert reply.status_code == status
        assert reply.json() == sample(name)


# -- webhooks -----------------------------------------------------------------------------------


async def test_webhook_delivery(api: FakeBotApi, bot: telegram.Bot) -> None:
    received: list[tuple[str | None, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/tg", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}/tg"
        update = api.command(USER, "/start")
        assert await api.post_webhook(url, update, secret_token="s3cret") == 200

        assert await bot.set_webhook(url, secret_token="hook_secret")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        assert await api.deliver(api.text(USER, "via webhook")) == 200
        assert await bot.delete_webhook()
    finally:
        await runner.cleanup()

    assert received[0] == ("s3cret", update)
    assert received[1][0] == "hook_secret"
    assert received[1][1]["message"]["text"] == "via webhook"


# -- edits, callbacks, files --------------------------------------------------------------------


async def test_edits_and_callback_answers(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(USER, "Do you agree?", reply_markup=INLINE)
    press = api.callback(USER, "consent:yes")
    assert await bot.answer_callback_query(press["callback_query"]["id"])
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
        await bot.answer_callback_query("12345")

    edited = await bot.edit_message_text("Thanks!", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Thanks!"
    assert edited.reply_markup is None  # no reply_markup given: the keyboard goes
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Thanks!", chat_id=USER, message_id=sent.message_id)
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=INLINE)
    again = api.callback(USER, "consent:yes", message_id=sent.message_id)
    assert again["callback_query"]["message"]["text"] == "Thanks!"
    assert again["callback_query"]["message"]["reply_markup"] == INLINE.to_dict()
    assert await bot.send_chat_action(USER, "typing")


async def test_files_copy_and_download(api: FakeBotApi, bot: telegram.Bot) -> None:
    update = api.document(USER, "passport.pdf", "application/pdf", 5, content=b"%PDF-")
    document = update["message"]["document"]
    file = await bot.get_file(document["file_id"])
    assert file.file_path
    assert file.file_path.endswith(".pdf")
    assert await file.download_as_bytearray() == bytearray(b"%PDF-")

    copied = await bot.copy_message(GROUP, USER, update["message"]["message_id"])
    assert api.chat_messages(GROUP)[-1]["message_id"] == copied.message_id
    assert api.chat_messages(GROUP)[-1]["document"]["file_id"] == document["file_id"]

    by_id = await bot.send_document(USER, document["file_id"], caption="Got it")
    assert by_id.document
    assert by_id.document.file_id == document["file_id"]
    uploaded = await bot.send_document(USER, b"hello", filename="note.txt")
    assert uploaded.document
    assert "AxkDAA" in uploaded.document.file_id
    assert uploaded.document.file_name == "note.txt"
    photo = api.photo(USER)["message"]["photo"]
    sent_photo = await bot.send_photo(USER, photo[-1]["file_id"])
    assert [p.file_id for p in sent_photo.photo] == [p["file_id"] for p in photo]
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(USER, "nope")


async def test_wait_for_messages(api: FakeBotApi, bot: telegram.Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(USER, "one")
        await bot.send_message(USER, "two")

    task = asyncio.create_task(later())
    assert [m["text"] for m in await api.wait_for_messages(USER, 2)] == ["one", "two"]
    await task
    await bot.send_message(USER, "three")
    assert [m["text"] for m in await api.wait_for_messages(USER, 1)] == ["three"]
    with pytest.raises(AssertionError, match="got 0"):
        await api.wait_for_messages(USER, 1, timeout=0.1)


# -- shapes against the captures ----------------------------------------------------------------


@needs_samples
async def test_update_shapes_match_captures(api: FakeBotApi, bot: telegram.Bot) -> None:
    alex: dict[str, Any] = {"username": "alex_sample"}
    full: dict[str, Any] = {"last_name": "Sample", "username": "alex_sample"}
    start = api.command(USER, "/start", "dXNlckBleGFtcGxlLmNvbQ==", **alex)
    await bot.send_message(USER, "Hello! Please choose an option:", reply_markup=INLINE)
    press = api.callback(USER, "consent:yes", **alex)
    api.text(2242981, "hi", **full)
    prompt = await bot.send_message(2242981, "Share you contact phone?", reply_markup=SHARE_PHONE)
    contact = api.contact(2242981, "+998900000000", reply_to=prompt.message_id, **full)
    document = api.document(171319245, "x.xlsx", "application/vnd.ms-excel", 23701, **full)
    photo = api.photo(485039391, **alex)
    api.supergroup(GROUP, title="kiiiosk.store", forum=True)
    topic = await bot.create_forum_topic(GROUP, "#129 Visitor")
    in_topic = api.group_message(GROUP, 943084337, "ok", thread_id=topic.message_thread_id, **full)
    group = -1002366990567
    answer = await bot.send_message(
        group, "Solved", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    reply = api.group_message(group, 471057601, "why?", reply_to=answer.message_id, **full)

    assert shape(start) == shape(sample("update_private_start_payload.json"))
    assert shape(press) == shape(sample("update_callback_query.json"))
    assert shape(contact) == shape(sample("update_contact.json"))
    assert shape(document) == shape(sample("update_document.json"))
    assert shape(photo) == shape(sample("update_photo.json"))
    assert shape(in_topic) == shape(sample("update_forum_topic_message.json"))
    captured = sample("update_group_reply.json")
    for message in (captured["message"], reply["message"]):
        message["reply_to_message"] = {}  # the captured bot reply carries entities/link preview
    assert shape(reply) == shape(captured)


@needs_samples
async def test_result_shapes_match_captures(api: FakeBotApi, http: httpx.AsyncClient) -> None:
    api.text(461699897, "hi", last_name="Sample", username="alex_sample")
    markup = {"inline_keyboard": [[{"text": "Кнопка1", "callback_data": "Кнопка1"}]]}
    sent = await http.post(
        "/sendMessage", json={"chat_id": 461699897, "text": "x", "reply_markup": markup}
    )
    me = await http.get("/getMe")
    api.supergroup(GROUP, forum=True)
    topic = await http.post(
        "/createForumTopic",
        data={"chat_id": GROUP, "name": "t", "icon_custom_emoji_id": "5357419403325481346"},
    )
    file_id = api.document(USER, "a.pdf", "application/pdf", 10)["message"]["document"]["file_id"]
    file = await http.post("/getFile", data={"file_id": file_id})
    query_id = api.callback(461699897, "Кнопка1")["callback_query"]["id"]
    answer = await http.post("/answerCallbackQuery", data={"callback_query_id": query_id})
    copied = await http.post(
        "/copyMessage", json={"chat_id": USER, "from_chat_id": 461699897, "message_id": 1}
    )

    assert shape(sent.json()) == shape(sample("response_sendMessage.json"))
    assert shape(me.json()) == shape(sample("response_getMe.json"))
    assert shape(topic.json()) == shape(sample("response_createForumTopic.json"))
    assert shape(file.json()) == shape(sample("response_getFile.json"))
    assert answer.json() == sample("response_answerCallbackQuery.json")
    assert shape(copied.json()) == shape(sample("response_copyMessage.json"))
