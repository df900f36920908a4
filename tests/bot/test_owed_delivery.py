"""What a turn owes is delivered even when Telegram or the process fails in between: replies
are committed with the state and the dispatcher delivers them (bot/dispatch.py)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from telegram import Bot

from bot.app import TelegramSetup, build_app
from bot.sealing import NONCE, SealedCodec
from dialogs.effects import SendOutgoing
from dialogs.events import ConversationKey
from dialogs.owed import JsonCodec, owed_items
from dialogs.ports import Outgoing, OwedStore
from dialogs.replies import Reply, Text
from tests.bot.harness import running_bot
from tests.conftest import STORES, make_settings
from tests.fakebotapi import FakeBotApi


def settings_for(store: str, tmp_path: Path, redis_url: str):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, redis_url=redis_url if store == "redis" else None)


async def _until(condition: object, what: str, seconds: float = 20) -> None:
    for _ in range(int(seconds * 20)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("store", STORES)
async def test_a_reply_telegram_could_not_take_is_sent_again_in_order(
    tmp_path: Path, app_redis: str, store: str
) -> None:
    async with running_bot(settings_for(store, tmp_path, app_redis)) as bot:
        for _ in range(3):
            bot.api.fail_next("sendMessage", 502)  # Bad Gateway: passing, tried again
        texts = await bot.customer().send("/start")
        assert len(texts) == 3  # intro, privacy notice, the EIK question, once each, in order
        assert "EIK" in texts[2]


@pytest.mark.parametrize("store", STORES)
async def test_what_a_stopped_process_still_owed_is_delivered_by_the_next(
    tmp_path: Path, app_redis: str, store: str
) -> None:
    settings = settings_for(store, tmp_path, app_redis)
    async with FakeBotApi() as api:
        first_bot = Bot(api.token, base_url=f"{api.base_url}/bot")
        first = await build_app(settings, channel=TelegramSetup(first_bot))
        await first_bot.initialize()
        for _ in range(200):
            api.fail_next("sendMessage", 502)  # Telegram is down for this process
        await first.transport.process_json(api.command(77, "/start"))  # committed: 200
        await asyncio.sleep(0.3)
        assert api.sent_messages(77) == []
        await first.close()  # stops within its grace; the lease ends for the next process
        await first_bot.shutdown()
        api._faults.clear()  # Telegram is back

        second_bot = Bot(api.token, base_url=f"{api.base_url}/bot")
        second = await build_app(settings, channel=TelegramSetup(second_bot))
        await second_bot.initialize()
        try:
            await _until(lambda: len(api.sent_messages(77)) >= 3, "the owed replies")
            await asyncio.sleep(0.3)
            texts = [m["text"] for m in api.sent_messages(77)]
            assert len(texts) == 3, texts  # nothing lost, nothing twice (the notice second)
            assert "EIK" in texts[2]
            owed: OwedStore = second.store  # type: ignore[assignment]
            key = ConversationKey(api.bot_id, 77, 77)
            await second.dispatcher.settled()
            assert await owed.owed(key) == []  # settled: a redelivery sends nothing again
        finally:
            await second.close()
            await second_bot.shutdown()


def test_owed_items_are_sealed_and_read_back_whole() -> None:
    key = ConversationKey(1, 2, 2)
    mail = Outgoing("email", "a@example.com", "bg", "Код", "{code}", {"code": "123456"})
    items = owed_items(
        key,
        version=3,
        update_id=99,
        locale="bg",
        effects=[SendOutgoing(mail)],
        reply_list=[Reply(Text("Hello {name}", {"name": "<b>"}))],
    )
    assert [item.id for item in items] == ["000000000003.000", "000000000003.001"]
    assert [item.lane for item in items] == ["chat", "slow"]  # the reply never waits for SMTP
    codec = SealedCodec(b"secret")
    for item in items:
        sealed = codec.encode(item)
        assert b"123456" not in sealed
        assert b"a@example.com" not in sealed
        assert codec.decode(sealed) == item
        assert JsonCodec().decode(JsonCodec().encode(item)) == item
    with pytest.raises(ValueError, match="integrity"):
        SealedCodec(b"another secret").decode(codec.encode(items[0]))


def test_sealing_nonces_never_repeat_within_a_codec_nor_after_a_fork() -> None:
    """Each item's nonce is a 64-bit field drawn per codec, then a counter (NIST SP 800-38D,
    8.2.1): every nonce differs; a new field is drawn when the counter is spent and in a
    forked child (which would otherwise count on from the parent's values)."""
    key = ConversationKey(1, 2, 2)
    (item,) = owed_items(
        key, version=1, update_id=1, locale="en", effects=[], reply_list=[Reply(Text("a"))]
    )
    codec = SealedCodec(b"secret")
    nonces = [codec.encode(item)[:NONCE] for _ in range(1000)]
    assert len(set(nonces)) == 1000
    assert len({nonce[:8] for nonce in nonces}) == 1  # one field, a counter after it
    codec._count = (1 << 32) - 1  # the last value of this field's counter
    last, after = codec.encode(item)[:NONCE], codec.encode(item)[:NONCE]
    assert last[:8] == nonces[0][:8]
    assert last[8:] == b"\xff\xff\xff\xff"
    assert after[:8] != last[:8]
    assert after[8:] == b"\x00\x00\x00\x00"
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first nonce, to the parent
        os.write(writer, codec.encode(item)[:NONCE])
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(reader, NONCE)
    os.close(reader)
    os.close(writer)
    assert child[:8] not in {after[:8], last[:8]}
    assert codec.decode(codec.encode(item)) == item
