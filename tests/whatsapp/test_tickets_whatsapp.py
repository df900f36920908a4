"""A WhatsApp customer's tickets in the same Telegram agents' group, one process serving both
apps: the card says WhatsApp, the customer's photo is downloaded from the Graph API and
uploaded into the group, the agent's answer and file go back over WhatsApp (the file
downloaded from Telegram, uploaded to the Graph API), within the size limit.

Both servers on loopback: the Bot API (tests/fakebotapi.py) and the Graph API
(tests/whatsapp/graph_api.py)."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.support import texts
from bot.web.server import web_app_for
from dialogs import help_ticket
from dialogs.flow import FLOWS_DIR
from tests.bot.harness import RunningBot, running_bot
from tests.support.helpers import EMAIL, GROUP, NIP, REGISTER_FLOW, Agent, group_texts
from tests.whatsapp.graph_api import FakeGraphApi
from tests.whatsapp.harness import RunningWhatsApp, wa, whatsapp_settings

pytestmark = pytest.mark.whatsapp
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20  # a JPEG's start, 5 kB


def support_flows(tmp_path: Path) -> Path:
    """The support tests' small registration flow and the shipped ticket flow."""
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "test-register.yaml").write_text(textwrap.dedent(REGISTER_FLOW), encoding="utf-8")
    shutil.copy(FLOWS_DIR / "support-ticket.yaml", flows)
    return flows


def card_id(bot: RunningBot) -> int:
    return next(
        int(c.result["message_id"])
        for c in bot.api.calls_to("sendMessage")
        if c.params["chat_id"] == GROUP
    )


@asynccontextmanager
async def both_apps(
    tmp_path: Path, redis_url: str, **extra: Any
) -> AsyncIterator[tuple[RunningBot, RunningWhatsApp]]:
    async with FakeGraphApi() as graph:
        settings = whatsapp_settings(
            tmp_path,
            graph,
            redis_url=redis_url,
            default_flow="test-register",
            support_chat_id=GROUP,
            **extra,
        )
        async with running_bot(settings, flows_dir=support_flows(tmp_path)) as bot:
            bot.api.supergroup(GROUP, title="Support", forum=False)
            runner = web.AppRunner(web_app_for(bot.app, bot.transport.push), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", settings.port).start()
            url = f"http://127.0.0.1:{settings.port}/whatsapp/webhook"
            try:
                async with aiohttp.ClientSession() as http:
                    yield bot, RunningWhatsApp(graph, bot.app, bot.delivery, http, url)
            finally:
                await runner.cleanup()


async def until(condition: Any, seconds: float = 10.0) -> None:
    """Wait for something another process-side task does (the poller, the dispatcher)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - two servers' side effects, no event to wait on
            await asyncio.sleep(0.02)


async def test_a_whatsapp_customers_ticket_in_the_telegram_group(
    tmp_path: Path, app_redis: str
) -> None:
    async with both_apps(tmp_path, app_redis) as (bot, whatsapp):
        ola = whatsapp.customer("pl")  # +48 601 234 567
        await ola.send("/start")
        await ola.send(NIP)
        await ola.send(EMAIL)
        assert await ola.send("/human my e-mail changed") == [wa(help_ticket.HUMAN_WRITE, "pl")]
        await until(lambda: group_texts(bot))
        card = group_texts(bot)[0]["text"]
        assert "+48 601 234 567 (WhatsApp)" in card
        assert "my e-mail changed" in card

        # her photo: from the Graph API into the group
        media_id = whatsapp.graph.add_media(PHOTO, "image/jpeg")
        added = await ola.message("image", {"id": media_id, "mime_type": "image/jpeg"})
        assert added == [wa(texts.SENT, "pl", number=1)]
        [photo] = bot.api.calls_to("sendPhoto")
        assert photo.params["photo"].data == PHOTO
        assert str(photo.params["chat_id"]) == str(GROUP)
        assert "(WhatsApp)" in photo.params["caption"]

        # the agent answers on the card; the answer reaches her over WhatsApp, in Polish
        await Agent(bot).say("We will fix it", reply_to=card_id(bot))
        await until(lambda: len(whatsapp.graph.to(ola.number)) > ola.seen)
        [answer] = ola.read_new()
        assert answer == wa(
            texts.AGENT_REPLY, "pl", number=1, title="my e-mail changed", text="We will fix it"
        )

        # the agent's file: from Telegram to the Graph API, then to her
        await Agent(bot).send_file(reply_to=card_id(bot), file_name="fix.txt", size=300)
        await until(lambda: len(whatsapp.graph.to(ola.number)) > ola.seen)
        [document] = ola.new()
        assert document.type == "document"
        uploaded = whatsapp.graph.media[document.message["document"]["id"]]
        assert (uploaded.content, uploaded.filename) == (bytes(300), "fix.txt")
        assert document.message["document"]["caption"] == wa(texts.AGENT_FILE, "pl", number=1)


async def test_a_file_over_the_limit_is_not_relayed(tmp_path: Path, app_redis: str) -> None:
    async with both_apps(tmp_path, app_redis, whatsapp_media_max_mb=1) as (bot, whatsapp):
        ola = whatsapp.customer("pl")
        await ola.send("/start")
        await ola.send(NIP)
        await ola.send(EMAIL)
        await ola.send("/human a big file")
        await until(lambda: group_texts(bot))
        big = whatsapp.graph.add_media(bytes(1024 * 1024 + 1), "application/pdf", "big.pdf")
        body = {"id": big, "mime_type": "application/pdf", "filename": "big.pdf"}
        replies = await ola.message("document", body)
        assert replies == [wa(texts.NOT_PASSED_ON, "pl", number=1)]  # kept, told, not lost
        assert bot.api.calls_to("sendDocument") == []
