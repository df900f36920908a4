"""Test flows and a served web app for the hand-off page tests.

Test flows reuse texts that are already in the catalog template (the bg flow's), so they load
through ``build_app`` exactly like shipped flows; only their hand-off options differ.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from bot.app import App, TerminalSetup, build_app
from bot.channels.terminal import TerminalChat
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from bot.web.links import add_link_routes
from bot.web.pages.guard import PageLimits
from bot.web.server import serving, web_app_for
from dialogs.events import ConversationKey, Event, EventKind
from dialogs.flow import FLOWS_DIR, load_flow
from dialogs.i18n import Catalogs

BG = load_flow(FLOWS_DIR / "bg-subscription-portal.yaml")
HANDOFF_TEXT = BG.steps["password"].options.text  # type: ignore[attr-defined]
FINISHED_TEXT = BG.steps["finished"].options.text  # type: ignore[attr-defined]
KK_POLICY = {
    "min_length": 8,
    "upper": True,
    "lower": True,
    "digit": True,
    "symbols": "!@$_-",
    "latin": True,
    "forbidden": ["Ag-15!d44"],
}
LINK = re.compile(r"→ (\S+)")


class Clock:
    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_flow(folder: Path, flow_id: str, **handoff: Any) -> None:
    body = {
        "id": flow_id,
        "language": "en",
        "title": BG.title,
        "start": "page",
        "steps": {
            "page": {"kind": "handoff", "text": HANDOFF_TEXT, "done": "finished", **handoff},
            "finished": {"kind": "end", "text": FINISHED_TEXT},
        },
    }
    folder.mkdir(exist_ok=True)
    (folder / f"{flow_id}.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), "utf-8")


def write_test_flows(folder: Path) -> Path:
    write_flow(folder, "kk-policy", policy=KK_POLICY)
    write_flow(folder, "pin-page", purpose="pin")
    write_flow(folder, "portal-hand-off", mode="portal")
    return folder


@dataclass
class PageBed:
    """A built app with the test flows, its pages served on loopback, and a chat that prints
    (the terminal chat's notifier) into ``lines``."""

    app: App
    base_url: str
    lines: list[str] = field(default_factory=list)
    chat: TerminalChat | None = None

    async def start(self, flow_id: str, user: int = 1, locale: str = "en") -> str:
        """Start ``flow_id`` for a user; return the hand-off link the chat printed."""
        assert self.chat is not None
        key = ConversationKey(0, user, user)
        await self.chat.send(
            Event(key, EventKind.COMMAND, text=flow_id, command="start", language_code=locale)
        )
        return LINK.findall("\n".join(self.lines))[-1]

    def local(self, link: str) -> str:
        """The same path on the loopback server (links carry PUBLIC_URL)."""
        return self.base_url + "/" + link.split("/", 3)[3]


@asynccontextmanager
async def page_bed(
    settings: Settings, flows: Path, clock: Clock, limits: PageLimits | None = None
) -> AsyncIterator[PageBed]:
    delivery = DevelopmentDelivery(Catalogs(), echo=lambda _line: None)
    lines: list[str] = []
    app = await build_app(
        settings,
        delivery=delivery,
        clock=clock,
        flows_dir=flows,
        channel=TerminalSetup(out=lines.append),
    )
    bed = PageBed(app, "")
    bed.lines = lines
    bed.chat = app.terminal
    web_app = web_app_for(app, bed.chat.send, limits=limits)
    add_link_routes(web_app, app.records, app.catalogs, app.clock, bed.chat.send)  # as `run`
    try:
        async with serving(web_app, "127.0.0.1", 0) as runner:
            assert runner is not None
            bed.base_url = base_url(runner)
            yield bed
    finally:
        await app.close()


def base_url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"
