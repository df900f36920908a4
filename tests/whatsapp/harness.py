"""Scenario tests over WhatsApp that read like a chat, through the real webhook over HTTP.

The bot runs as ``onboard run`` does with only WhatsApp configured (or beside Telegram): the
composition root builds it from settings, its web server (pages + WhatsApp's webhook) listens
on loopback, and the Graph API it talks to is :class:`tests.whatsapp.graph_api.FakeGraphApi`.
A customer's message is a signed POST like Meta's; the answer is read from what the Graph API
received.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import App, WhatsAppSetup, build_app
from bot.channels.whatsapp.format import to_whatsapp
from bot.channels.whatsapp.parse import conversation_key
from bot.channels.whatsapp.render import OWN_NUMBER
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from bot.web.links import add_link_routes
from bot.web.server import web_app_for
from dialogs.events import ConversationKey
from dialogs.i18n import Catalogs
from dialogs.replies import Param
from storage.crm_import import load_crm
from tests.bot.test_bg_flow_telegram import t
from tests.conftest import make_settings
from tests.whatsapp.graph_api import JSON, VERSION, FakeGraphApi, Sent

DEMO_CRM = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"
PATH = "/whatsapp/webhook"
NUMBERS = {  # a customer's number in each flow's country: the language it suggests
    "bg": "359881234567",
    "hu": "36301234567",
    "kk": "77021234567",
    "de": "4915112345678",
    "pl": "48601234567",
    "en": "447700900123",
}


def wa(msgid: str, locale: str, **params: Param) -> str:
    """A catalog text as WhatsApp shows it (our HTML subset turned into its formatting)."""
    return to_whatsapp(t(msgid, locale, **params))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def whatsapp_settings(
    tmp_path: Path, graph: FakeGraphApi, *, redis_url: str | None = None, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "whatsapp_token": graph.token,
        "whatsapp_app_secret": graph.app_secret,
        "whatsapp_verify_token": "verify-me",
        "whatsapp_phone_number_id": graph.phone_number_id,
        "whatsapp_api_base": graph.base_url,
        "whatsapp_api_version": VERSION,
        "whatsapp_pair_burst": 45,
        "port": free_port(),
        **extra,
    }
    return make_settings(tmp_path, redis_url=redis_url, **values)


@dataclass
class RunningWhatsApp:
    graph: FakeGraphApi
    app: App
    delivery: DevelopmentDelivery
    http: aiohttp.ClientSession
    url: str

    def customer(self, locale: str = "en", number: str | None = None) -> WaCustomer:
        return WaCustomer(self, number or NUMBERS[locale], locale)

    async def post(self, payload: JSON, *, signature: str | None = None) -> int:
        return await self.graph.post(self.http, self.url, payload, signature=signature)


@asynccontextmanager
async def running_whatsapp(
    tmp_path: Path,
    *,
    redis_url: str | None = None,
    graph: FakeGraphApi | None = None,
    local_crm: bool = True,
    **build_options: Any,
) -> AsyncIterator[RunningWhatsApp]:
    settings_extra = build_options.pop("settings", {})
    if graph is None:  # the Graph API's clock is the bot's (the window is measured on both)
        graph = FakeGraphApi(clock=build_options.get("clock", __import__("time").time))
    async with graph as api:
        settings = whatsapp_settings(tmp_path, api, redis_url=redis_url, **settings_extra)
        delivery = DevelopmentDelivery(Catalogs(), echo=lambda _line: None)
        build_options.setdefault("delivery", delivery)
        app = await build_app(settings, channel=WhatsAppSetup(), **build_options)
        if local_crm:
            await load_crm(app.db, DEMO_CRM)
        web_app = web_app_for(app, app.whatsapp.push)
        add_link_routes(web_app, app.records, app.catalogs, app.clock, app.whatsapp.push)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", settings.port).start()
        url = f"http://127.0.0.1:{settings.port}{PATH}"
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                yield RunningWhatsApp(api, app, delivery, http, url)
        finally:
            await runner.cleanup()
            await app.close()


@dataclass
class WaCustomer:
    """A person writing to our business number from their WhatsApp."""

    bot: RunningWhatsApp
    number: str
    locale: str
    seen: int = 0
    choices: list[tuple[str, str]] = field(default_factory=list)  # (id, title) on screen

    @property
    def key(self) -> ConversationKey:
        return conversation_key(self.bot.graph.phone_number_id, self.number)

    async def send(self, text: str) -> list[str]:
        return await self.message("text", {"body": text})

    async def press(self, title: str) -> list[str]:
        for id_, shown in self.choices:
            if shown == title:
                return await self.tap(id_, shown)
        raise AssertionError(f"no choice {title!r}; shown: {[s for _, s in self.choices]}")

    async def tap(self, id_: str, title: str) -> list[str]:
        last = next(s for s in reversed(self.bot.graph.to(self.number)) if s.choices)
        kind = last.message["interactive"]["type"]
        reply = "button_reply" if kind == "button" else "list_reply"
        return await self.message(
            "interactive", {"type": reply, reply: {"id": id_, "title": title}}
        )

    async def share_own_number(self) -> list[str]:
        title = next(s for i, s in self.choices if i == OWN_NUMBER)
        return await self.tap(OWN_NUMBER, title)

    async def share_contact(self, phone: str, wa_id: str | None) -> list[str]:
        card: JSON = {"name": {"formatted_name": "Someone"}, "phones": [{"phone": phone}]}
        if wa_id:
            card["phones"][0]["wa_id"] = wa_id
        return await self.message("contacts", [card])

    async def message(self, kind: str, body: Any) -> list[str]:
        payload = self.bot.graph.inbound(self.number, kind, body)
        return await self.deliver(payload)

    async def deliver(self, payload: JSON) -> list[str]:
        assert await self.bot.post(payload) == 200
        await asyncio.wait_for(self.bot.app.dispatcher.delivered(self.key), 10)
        return self.read_new()

    def read_new(self) -> list[str]:
        return [s.text for s in self.new()]

    def new(self) -> list[Sent]:
        sent = self.bot.graph.to(self.number)
        fresh, self.seen = sent[self.seen :], len(sent)
        for message in fresh:
            if message.choices:
                self.choices = message.choices
        return fresh

    def link(self) -> str:
        for message in reversed(self.bot.graph.to(self.number)):
            if message.link:
                return message.link[1]
        raise AssertionError("no CTA URL button was sent")
