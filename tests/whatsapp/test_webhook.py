"""WhatsApp's webhook and sender through the real server: the handshake, signatures, a message
Meta delivers twice, statuses, refusals, the 24-hour window and the rate limits.

The Graph API is tests/whatsapp/graph_api.py (its docstring cites Meta's reference pages)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

import pytest

from bot.channels.whatsapp.webhook import LOCATION_REFUSED
from bot.ops import metrics
from bot.ops.logs import Redactor
from dialogs.commands import LANGUAGE_SET
from dialogs.replies import Button, Reply, Text
from tests.bot.test_bg_flow_telegram import EMAIL
from tests.delivery.harness import Clock
from tests.whatsapp.graph_api import FakeGraphApi
from tests.whatsapp.harness import running_whatsapp, wa

pytestmark = pytest.mark.whatsapp


def counted(event: str) -> float:
    return float(metrics.WHATSAPP_EVENTS.labels(event)._value.get())


async def test_the_verification_handshake(tmp_path: Path) -> None:
    async with running_whatsapp(tmp_path) as bot:
        query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158"}
        async with bot.http.get(bot.url, params=query) as answer:
            assert (answer.status, await answer.text()) == (200, "1158")
        for wrong in ({**query, "hub.verify_token": "guess"}, {**query, "hub.mode": "x"}, {}):
            async with bot.http.get(bot.url, params=wrong) as answer:
                assert answer.status == 403
                assert "1158" not in await answer.text()


async def test_a_wrong_or_missing_signature_is_refused_and_nothing_applied(
    tmp_path: Path, app_redis: str
) -> None:
    async with running_whatsapp(tmp_path, redis_url=app_redis) as bot:
        anna = bot.customer("bg")
        payload = bot.graph.inbound(anna.number, "text", {"body": "/start"})
        forged = "sha256=" + "0" * 64
        other_key = FakeGraphApi(app_secret="not-the-secret")
        for signature in (forged, "", other_key.sign(b"{}"), "sha1=abc"):
            assert await bot.post(payload, signature=signature) == 401
        tampered = bot.graph.sign(b'{"object": "whatsapp_business_account"}')
        assert await bot.post(payload, signature=tampered) == 401
        await asyncio.sleep(0.2)
        assert bot.graph.sent == []
        assert (await bot.app.store.begin(anna.key, None)).data is None
        assert await bot.post(payload) == 200  # the same body, signed with the app secret
        await bot.app.dispatcher.delivered(anna.key)
        assert len(bot.graph.to(anna.number)) == 3  # intro, privacy notice, the EIK question


async def test_a_redelivered_message_is_applied_once(tmp_path: Path, app_redis: str) -> None:
    async with running_whatsapp(tmp_path, redis_url=app_redis) as bot:
        anna = bot.customer("bg")
        await anna.send("/start")
        payload = bot.graph.inbound(anna.number, "text", {"body": "175074752"})
        before = counted("duplicate")
        assert await anna.deliver(payload) == [wa(EMAIL, "bg")]
        assert await anna.deliver(payload) == []  # Meta sent it again: nothing new
        assert await anna.send("12345") != []  # the conversation goes on where it was
        assert counted("duplicate") == before + 1


async def test_statuses_are_counted_and_a_failure_logged_without_the_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_whatsapp(tmp_path) as bot:
        anna = bot.customer("hu")
        await anna.send("/start")
        wamid = bot.graph.to(anna.number)[0].wamid
        before = {s: counted(f"status_{s}") for s in ("sent", "delivered", "read", "failed")}
        caplog.set_level(logging.INFO)
        for status in ("sent", "delivered", "read"):
            assert await bot.post(bot.graph.status(wamid, anna.number, status)) == 200
        assert await bot.post(bot.graph.status(wamid, anna.number, "failed", 131026)) == 200
        after = {s: counted(f"status_{s}") for s in before}
        assert after == {s: v + 1 for s, v in before.items()}
        failed = [r.getMessage() for r in caplog.records if "failed to reach" in r.getMessage()]
        assert failed == ["a WhatsApp message failed to reach the customer (error 131026)"]
        assert all(anna.number not in r.getMessage() for r in caplog.records)


async def test_a_location_is_refused_politely_in_the_customers_language(tmp_path: Path) -> None:
    async with running_whatsapp(tmp_path) as bot:
        anna = bot.customer("de")
        await anna.send("/start")
        await bot.app.dispatcher.settled()  # (a send_now while a lease settles is lost)
        place = {"latitude": 52.52, "longitude": 13.40, "name": "Büro"}
        assert await anna.message("location", place) == [wa(LOCATION_REFUSED, "de")]
        assert "Standort" in wa(LOCATION_REFUSED, "de")


async def test_outside_the_window_replies_go_as_the_template_of_their_language(
    tmp_path: Path,
) -> None:
    clock = Clock()
    graph = FakeGraphApi(clock=clock)
    templates = {"whatsapp_templates": "bg=onboard_reply_bg", "whatsapp_template": "onboard_reply"}
    async with running_whatsapp(tmp_path, graph=graph, clock=clock, settings=templates) as bot:
        anna, ben = bot.customer("bg"), bot.customer("de")
        await anna.send("/start")
        await ben.send("/start")
        await bot.app.dispatcher.settled()  # (a send_now while a lease settles is lost)
        clock.now += 25 * 3600  # a day and an hour later an agent answers
        answer = Reply(Text("Our answer: <b>done</b>.\nBye"))
        for customer in (anna, ben):
            bot.app.dispatcher.send_now(customer.key, [answer], customer.locale)
            await bot.app.dispatcher.delivered(customer.key)
        [to_anna], [to_ben] = anna.new()[-1:], ben.new()[-1:]
        assert to_anna.type == "template"
        assert to_anna.message["template"]["name"] == "onboard_reply_bg"
        assert to_anna.message["template"]["language"] == {"code": "bg"}
        assert to_anna.text == "Our answer: *done*. · Bye"  # no new lines in a parameter
        assert to_ben.message["template"]["name"] == "onboard_reply"
        assert (anna.number, 131047) not in bot.graph.refused  # we knew: no failed try first
        assert await anna.send("hello") != []  # she writes: free-form again
        assert anna.new() == []
        assert bot.graph.to(anna.number)[-1].type != "template"


async def test_a_131047_from_the_api_falls_back_to_the_template(tmp_path: Path) -> None:
    async with running_whatsapp(tmp_path) as bot:
        anna = bot.customer("pl")
        await anna.send("/start")
        bot.graph.fail_next(anna.number, 131047)
        replies = await anna.send("/help")
        assert (anna.number, 131047) in bot.graph.refused
        assert replies  # nothing dropped
        assert bot.graph.to(anna.number)[-len(replies)].type == "template"


async def test_the_pair_rate_limit_is_waited_out(tmp_path: Path) -> None:
    settings = {"whatsapp_pair_hold_seconds": 0.3}
    async with running_whatsapp(tmp_path, settings=settings) as bot:
        anna = bot.customer("kk")
        bot.graph.fail_next(anna.number, 131056, times=2)
        started = asyncio.get_running_loop().time()
        replies = await anna.send("/start")
        waited = asyncio.get_running_loop().time() - started
        assert len(replies) == 3  # every reply arrived, each once
        assert [code for to, code in bot.graph.refused if to == anna.number] == [131056, 131056]
        assert waited >= 0.6
        assert len({s.wamid for s in bot.graph.to(anna.number)}) == 3


async def test_messages_to_one_customer_are_paced(tmp_path: Path) -> None:
    settings = {"whatsapp_pair_rate": 5.0, "whatsapp_pair_burst": 1}
    async with running_whatsapp(tmp_path, settings=settings) as bot:
        anna = bot.customer("hu")
        await anna.send("/start")
        times = [at for to, at in bot.graph.send_times if to == anna.number]
        assert len(times) >= 2
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.18  # 5 a second, no burst


def test_the_logs_never_show_a_whatsapp_customers_number() -> None:
    key = "whatsapp:106540352242922:359881234567:359881234567"
    line = Redactor(["EAAtest-token"])(f"a reply to {key} was refused (token EAAtest-token)")
    assert line == ("a reply to whatsapp:106540352242922:<phone>:<phone> was refused (token ***)")


@pytest.mark.parametrize("store", ["redis", "embedded"])
async def test_a_131047_reported_later_sends_the_message_again_as_the_template(
    tmp_path: Path, app_redis: str, store: str
) -> None:
    redis_url = app_redis if store == "redis" else None
    async with running_whatsapp(tmp_path, redis_url=redis_url) as bot:
        anna = bot.customer("bg")
        first = await anna.send("/start")
        eik = bot.graph.to(anna.number)[-1]  # Meta accepted it, then reports it failed:
        await bot.app.dispatcher.settled()
        assert await bot.post(bot.graph.status(eik.wamid, anna.number, "failed", 131047)) == 200
        await bot.app.dispatcher.delivered(anna.key)
        [again] = anna.new()[-1:]
        assert again.type == "template"
        assert again.text == first[-1]  # the same words, nothing dropped
        unknown = bot.graph.status("wamid.unknown", anna.number, "failed", 131047)
        assert await bot.post(unknown) == 200  # logged, nothing to resend


async def test_more_than_ten_choices_are_answered_by_number(tmp_path: Path) -> None:
    async with running_whatsapp(tmp_path) as bot:
        anna = bot.customer("bg")
        await anna.send("/start")
        await bot.app.dispatcher.settled()
        fillers = [Button(Text(f"Option {n}", literal=True), data=f"x:{n}") for n in range(10)]
        german = Button(Text("Deutsch", literal=True), data="lang:de")
        menu = Reply(Text("Pick one", literal=True), (*fillers, german))
        bot.app.dispatcher.send_now(anna.key, [menu], "bg")
        await bot.app.dispatcher.delivered(anna.key)
        [numbered] = anna.new()
        assert numbered.type == "text"
        assert "11. Deutsch" in numbered.text
        replies = await anna.send("11")  # the number: as if "Deutsch" were pressed
        assert replies[0] == wa(LANGUAGE_SET, "de", language="Deutsch")
        assert await anna.send("12") != [wa(LANGUAGE_SET, "de", language="Deutsch")]
