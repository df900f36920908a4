"""Real captured Telegram updates become the right neutral events; replies become safe HTML."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.channels.telegram.parse import event_from_update
from bot.channels.telegram.render import TelegramRenderer, within_limit
from dialogs.events import EventKind
from dialogs.i18n import Catalogs
from dialogs.replies import Button, ButtonKind, Reply, Text

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "telegram"
BOT = Bot("123456:TEST")


def update(name: str) -> Update:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    parsed = Update.de_json(data, BOT)
    assert parsed is not None
    return parsed


def test_start_with_a_deep_link_payload() -> None:
    event = event_from_update(update("update_private_start_payload.json"), 1)
    assert event is not None
    assert (event.kind, event.command, event.text) == (
        EventKind.COMMAND,
        "start",
        "dXNlckBleGFtcGxlLmNvbQ==",
    )
    assert event.update_id is not None
    assert event.key.chat_id == event.key.user_id == event.sender_id


def test_plain_text_and_plain_start() -> None:
    text = event_from_update(update("update_private_text.json"), 1)
    assert text is not None
    assert text.kind is EventKind.TEXT
    start = event_from_update(update("update_private_start.json"), 1)
    assert start is not None
    assert (start.kind, start.command, start.text) == (EventKind.COMMAND, "start", "")


def test_button_press() -> None:
    event = event_from_update(update("update_callback_query.json"), 1)
    assert event is not None
    assert event.kind is EventKind.BUTTON
    assert event.text


def test_own_contact_keeps_whose_it_is() -> None:
    event = event_from_update(update("update_contact.json"), 1)
    assert event is not None
    assert event.kind is EventKind.CONTACT
    assert event.contact is not None
    assert event.contact.phone == "+998900000000"
    assert event.contact.user_id == event.sender_id


@pytest.mark.parametrize("name", ["update_document.json", "update_photo.json"])
def test_files_are_kept_by_reference(name: str) -> None:
    event = event_from_update(update(name), 1)
    assert event is not None
    assert event.kind is EventKind.FILE
    assert event.files
    assert event.files[0].file_id


@pytest.mark.parametrize("name", ["update_group_reply.json", "update_forum_topic_message.json"])
def test_group_messages_are_not_customer_conversations(name: str) -> None:
    assert event_from_update(update(name), 1) is None


RENDERER = TelegramRenderer(Catalogs())


def test_user_text_is_escaped_in_html() -> None:
    reply = Reply(
        Text(
            "Your previous answer was: {answer}. Send a new one, or the same again.",
            {"answer": "<b>x</b> & <a href='y'>"},
        )
    )
    out = RENDERER.reply(reply, "en")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href='y'&gt;" in out.text
    assert "<b>" not in out.text


def test_keyboards() -> None:
    inline = RENDERER.reply(
        Reply(
            Text("Yes"),
            (
                Button(Text("Yes"), ButtonKind.CALLBACK, "s:x:yes"),
                Button(Text("Set my password"), ButtonKind.LINK, "https://example.com/p/t"),
            ),
        ),
        "de",
    )
    assert inline.markup is not None
    first, second = (row[0] for row in inline.markup["inline_keyboard"])
    assert first == {"text": "Ja", "callback_data": "s:x:yes"}
    assert second == {"text": "Passwort festlegen", "url": "https://example.com/p/t"}
    assert InlineKeyboardMarkup.de_json(inline.markup, None) is not None  # a valid markup
    assert "example.com/p/t" in str(inline.without_link_buttons()["text"])
    contact = RENDERER.reply(
        Reply(Text("Yes"), (Button(Text("Share my phone number"), ButtonKind.CONTACT),)), "en"
    )
    assert contact.markup is not None
    assert contact.markup["keyboard"] == [
        [{"text": "Share my phone number", "request_contact": True}]
    ]
    assert ReplyKeyboardMarkup.de_json(contact.markup, None) is not None
    removed = RENDERER.reply(Reply(Text("Yes"), remove_keyboard=True), "en")
    assert removed.markup is not None
    assert ReplyKeyboardRemove.de_json(removed.markup, None) is not None


def test_an_over_long_reply_is_cut_as_plain_text_never_inside_an_entity_or_tag() -> None:
    answer = "Fix: a < b & c > d. " * 300  # an agent's long answer, 6,000 characters
    reply = Reply(Text("<b>Answer:</b> {text}", {"text": answer}))
    text = RENDERER.reply(reply, "en").text
    assert len(text) <= 4096
    assert text.endswith("…")
    assert "<b>" not in text  # no tag left open
    assert re.search(r"&[a-z]*…$", text) is None  # no entity cut in half
    assert html.unescape(text[:-1]) == ("Answer: " + answer)[: len(html.unescape(text[:-1]))]
    assert within_limit("short <b>kept</b>") == "short <b>kept</b>"
