"""The bot's own JSON client (bot/channels/telegram/client.py) against a Bot API server on loopback:
one JSON body per call, Telegram's answers mapped onto python-telegram-bot's errors, every
call counted, and the token (it is in the URL) never in an error."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web
from prometheus_client import REGISTRY
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.channels.telegram.client import AiohttpPoster, BotApiClient, plain
from bot.channels.telegram.sender import retry_seconds
from tests.fakebotapi import FakeBotApi

pytestmark = pytest.mark.chaos  # issue 14: the Bot API through public interfaces only


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _calls(method: str, status: str) -> float:
    labels = {"method": method, "status": status}
    return REGISTRY.get_sample_value("onboard_bot_api_calls_total", labels) or 0.0


async def test_a_reply_with_buttons_is_one_json_body_and_its_result_comes_back() -> None:
    async with FakeBotApi() as api:
        client = BotApiClient(AiohttpPoster(api.base_url, api.token))
        markup = {"inline_keyboard": [[{"text": "Да „ок“", "callback_data": "yes"}]]}
        before = _calls("sendMessage", "200")
        try:
            result = await client.call(
                "sendMessage",
                {
                    "chat_id": 42,
                    "text": "<b>Здравей</b>",
                    "parse_mode": "HTML",
                    "reply_markup": markup,
                    "message_thread_id": None,
                },
            )
        finally:
            await client.close()
        [call] = api.calls_to("sendMessage")
    assert isinstance(result["message_id"], int)
    assert call.params["text"] == "<b>Здравей</b>"
    assert result["chat"]["id"] == 42
    assert call.params["reply_markup"] == markup
    assert "message_thread_id" not in call.params
    assert _calls("sendMessage", "200") == before + 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequest), (403, Forbidden), (429, RetryAfter), (500, NetworkError)],
)
async def test_telegrams_refusals_become_python_telegram_bots_errors(
    status: int, error: type[Exception]
) -> None:
    async with FakeBotApi() as api:
        client = BotApiClient(AiohttpPoster(api.base_url, api.token))
        api.fail_next("sendMessage", status, retry_after=3)
        try:
            with pytest.raises(error) as raised:
                await client.call("sendMessage", {"chat_id": 42, "text": "hi"})
        finally:
            await client.close()
    if status == 429:
        assert isinstance(raised.value, RetryAfter)
        assert retry_seconds(raised.value.retry_after) == 3
    if status == 500:
        assert not isinstance(raised.value, BadRequest)  # passing: the dispatcher tries again


async def test_an_unreachable_api_is_a_network_error_that_does_not_name_the_token() -> None:
    port = _free_port()
    token = "123456:SECRETsecretSECRETsecret"
    client = BotApiClient(AiohttpPoster(f"http://127.0.0.1:{port}", token))
    before = _calls("getMe", "error")
    try:
        with pytest.raises(NetworkError) as raised:
            await client.call("getMe", {})
    finally:
        await client.close()
    assert "SECRET" not in str(raised.value)
    assert raised.value.__suppress_context__  # aiohttp's error text names the URL
    assert _calls("getMe", "error") == before + 1


async def test_a_proxy_page_instead_of_json_is_a_network_error() -> None:
    async def bad_gateway(_request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html><h1>502 Bad Gateway</h1></html>")

    app = web.Application()
    app.router.add_post("/{tail:.*}", bad_gateway)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = BotApiClient(AiohttpPoster(f"http://127.0.0.1:{port}", "1:T"))
    try:
        with pytest.raises(NetworkError) as raised:
            await client.call("sendMessage", {"chat_id": 1, "text": "x"})
    finally:
        await client.close()
        await runner.cleanup()
    assert "502" in str(raised.value)
    assert not isinstance(raised.value, BadRequest)


def test_uploads_are_not_plain_json() -> None:
    assert plain({"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": []}})
    assert not plain({"chat_id": 1, "document": b"%PDF"})
    assert not plain({"chat_id": 1, "document": object()})
