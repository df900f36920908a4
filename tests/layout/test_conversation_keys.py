"""A conversation key names its channel (issue 18): the same person on two apps has two
conversations, while Telegram's keys keep the ``bot:chat:user`` text that the stored state,
owed items and tickets of running deployments are filed under."""

from __future__ import annotations

import pytest

from dialogs import effects as fx
from dialogs.events import TELEGRAM, ConversationKey
from dialogs.owed import JsonCodec, OwedItem
from dialogs.ports import Snapshot, StateStore

pytestmark = pytest.mark.layout

TELEGRAM_KEY = ConversationKey(7, 4242, 4242, channel=TELEGRAM)
WHATSAPP_KEY = ConversationKey(106540352242922, 4915112345678, 4915112345678, channel="wa")


def test_telegram_text_is_unchanged() -> None:
    assert TELEGRAM_KEY.text == str(TELEGRAM_KEY) == "7:4242:4242"
    assert ConversationKey(1, -100, 42) == ConversationKey(1, -100, 42, channel=TELEGRAM)


def test_other_channels_are_prefixed() -> None:
    assert str(WHATSAPP_KEY) == "wa:106540352242922:4915112345678:4915112345678"
    twin = ConversationKey(WHATSAPP_KEY.bot_id, WHATSAPP_KEY.chat_id, WHATSAPP_KEY.user_id)
    assert twin != WHATSAPP_KEY
    assert len({twin, WHATSAPP_KEY}) == 2


@pytest.mark.parametrize(
    "key",
    [TELEGRAM_KEY, WHATSAPP_KEY, ConversationKey(0, 1, 1, channel="terminal")],
    ids=str,
)
def test_parse_inverts_str(key: ConversationKey) -> None:
    parsed = ConversationKey.parse(str(key))
    assert parsed == key
    assert parsed.channel == key.channel
    assert str(parsed) == str(key)


@pytest.mark.parametrize("text", ["telegram:1:2:3", ":1:2:3", "1:2", "wa:1:2:3:4", "wa:x:2:3"])
def test_parse_refuses_what_no_key_prints(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - int() and unpacking say it their own way
        ConversationKey.parse(text)


def test_owed_items_written_before_channels_read_back_as_telegram() -> None:
    """An item a process of the previous release stored (no ``channel`` in the body's key)."""
    stored = (
        b'ForgetCustomer\tx\t1:2:3\ten\t\n{"key":{"bot_id":1,"chat_id":2,"user_id":3},"at":1.0}'
    )
    item = JsonCodec().decode(stored)
    key = ConversationKey(1, 2, 3, channel=TELEGRAM)
    assert item.key == key
    assert item.what == fx.ForgetCustomer(key, 1.0)


@pytest.mark.parametrize("key", [TELEGRAM_KEY, WHATSAPP_KEY], ids=str)
def test_owed_items_keep_their_channel(key: ConversationKey) -> None:
    codec = JsonCodec()
    item = OwedItem("x", key, "de", fx.ForgetCustomer(key, 1.0))
    back = codec.decode(codec.encode(item))
    assert back == item
    assert back.what.key.channel == key.channel


async def test_two_apps_two_conversations(store: StateStore) -> None:
    """Same bot id, chat and user numbers on two channels: two states, in every backend."""
    twin = ConversationKey(WHATSAPP_KEY.bot_id, WHATSAPP_KEY.chat_id, WHATSAPP_KEY.user_id)
    assert await store.commit(WHATSAPP_KEY, 0, b"on whatsapp", 1)
    assert await store.begin(twin, 2) == Snapshot(None, 0)
    assert await store.commit(twin, 0, b"on telegram", 2)
    assert await store.begin(WHATSAPP_KEY, None) == Snapshot(b"on whatsapp", 1)
    assert await store.begin(twin, None) == Snapshot(b"on telegram", 1)
