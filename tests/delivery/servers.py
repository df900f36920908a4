"""Real servers on loopback for the delivery tests: an SMTP server (aiosmtpd) and an HTTP SMS
gateway (aiohttp), each recording what it received."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller

CODE = re.compile(r"\b(\d{6,8})\b")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """An aiosmtpd handler: every accepted mail, parsed."""

    port: int = field(default_factory=free_port)
    mails: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append(mail)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def parts(self, index: int = -1) -> tuple[str, str]:
        """(plain text, HTML) of a received mail."""
        mail = self.mails[index]
        plain = mail.get_body(("plain",))
        rich = mail.get_body(("html",))
        assert plain is not None
        assert rich is not None
        return str(plain.get_content()), str(rich.get_content())

    def code(self, index: int = -1) -> str:
        match = CODE.search(self.parts(index)[0])
        assert match is not None, self.parts(index)[0]
        return match.group(1)


@asynccontextmanager
async def smtp_server(mailbox: Mailbox) -> AsyncIterator[Mailbox]:
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    await asyncio.to_thread(controller.start)
    try:
        yield mailbox
    finally:
        await asyncio.to_thread(controller.stop)


@dataclass
class SmsGateway:
    token: str = "gateway-token-123"
    received: list[dict[str, Any]] = field(default_factory=list)
    failing: int = 0  # answer 503 this many times first
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.failing:
            self.failing -= 1
            return web.json_response({"error": "busy"}, status=503)
        self.received.append(await request.json())
        return web.json_response({"id": len(self.received)})

    def code(self) -> str:
        match = CODE.search(self.received[-1]["text"])
        assert match is not None
        return match.group(1)


@asynccontextmanager
async def sms_gateway(gateway: SmsGateway) -> AsyncIterator[SmsGateway]:
    app = web.Application()
    app.router.add_post("/sms", gateway.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gateway.url = f"http://127.0.0.1:{port}/sms"
    try:
        yield gateway
    finally:
        await runner.cleanup()
