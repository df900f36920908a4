"""The same engine in a terminal: replies printed with numbered buttons, lines read from stdin.

Used by ``onboard chat`` and by ``onboard run`` when no bot token is configured. Works with
piped input (one answer per line).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from bot.channels.base import hand_over
from bot.dispatch import Dispatcher
from dialogs.engine import Engine
from dialogs.events import ConversationKey, Event, EventKind
from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import Button, ButtonKind, Reply

TAG = re.compile(r"<[^>]+>")
TERMINAL = "terminal"
TERMINAL_KEY = ConversationKey(bot_id=0, chat_id=1, user_id=1, channel=TERMINAL)


class TerminalScreen:
    """Where the terminal's customer reads: replies printed, the last buttons remembered (the
    terminal as a :class:`bot.channels.base.Channel`; printing never fails for a passing
    reason, nor is a reply ever refused)."""

    name = TERMINAL

    def __init__(self, catalogs: Catalogs, *, out: Callable[[str], None] = print) -> None:
        self.catalogs = catalogs
        self.out = out
        self.buttons: list[Button] = []
        self.labels: list[tuple[Button, str]] = []

    async def send(self, chat_id: int, replies: Sequence[Reply], locale: str) -> None:
        """The dispatcher's way into this chat (one chat: ``chat_id`` is the terminal's)."""
        del chat_id
        for reply in replies:
            self.show(reply, locale)

    def passing(self, exc: BaseException) -> bool:
        return False

    def final(self, exc: BaseException) -> bool:
        return False

    def show(self, reply: Reply, locale: str) -> None:
        """Print a reply; its buttons stay valid until the next reply that has buttons."""
        self.out(TAG.sub("", render(reply.text, self.catalogs, locale)))
        if reply.document is not None:
            self.out(f"--- {reply.document.filename} ---\n{reply.document.content}")
        if reply.buttons:
            self.buttons = list(reply.buttons)
            self.labels = [(b, render(b.label, self.catalogs, locale)) for b in reply.buttons]
        for number, button in enumerate(reply.buttons, start=1):
            label = render(button.label, self.catalogs, locale)
            suffix = f" → {button.data}" if button.kind is ButtonKind.LINK else ""
            self.out(f"  [{number}] {label}{suffix}")


class TerminalChat:
    """Lines in → the engine → what the turn owes, delivered (by the dispatcher) to the
    screen before the next line is read."""

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        screen: TerminalScreen,
        *,
        language: str | None = None,
        key: ConversationKey = TERMINAL_KEY,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.screen = screen
        self.catalogs = screen.catalogs
        self.out = screen.out
        self.language = language
        self.key = key

    async def run(self, stdin: TextIO = sys.stdin, flow: str | None = None) -> None:
        if self.language:
            await self.send(self._event(f"lang:{self.language}", EventKind.BUTTON))
        await self.send(
            Event(
                self.key,
                EventKind.COMMAND,
                text=flow or "",
                command="start",
                language_code=self.language,
                sender_id=1,
            )
        )
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                return
            event = self.event_for(line.strip())
            if event is not None:
                await self.send(event)

    def _event(self, text: str, kind: EventKind = EventKind.TEXT) -> Event:
        return Event(self.key, kind, text=text, language_code=self.language, sender_id=1)

    def event_for(self, line: str) -> Event | None:
        if line.startswith("/"):
            name, _, argument = line[1:].partition(" ")
            return Event(
                self.key,
                EventKind.COMMAND,
                text=argument.strip(),
                command=name.lower(),
                language_code=self.language,
                sender_id=1,
            )
        button = self._pressed(line)
        if button is not None:
            if button.kind is ButtonKind.CALLBACK:
                return self._event(button.data, EventKind.BUTTON)
            self.out(
                f"  (open {button.data})"
                if button.kind is ButtonKind.LINK
                else "  (type your phone number)"
            )
            return None
        return self._event(line)

    def _pressed(self, line: str) -> Button | None:
        """The button a line means: its number, or its label as shown (any case)."""
        buttons = self.screen.buttons
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            return buttons[int(line) - 1]
        wanted = line.casefold()
        return next((b for b, label in self.screen.labels if label.casefold() == wanted), None)

    async def send(self, event: Event) -> None:
        """Apply one line and wait until what it owes is printed (mails included)."""
        hand_over(self.dispatcher, event.key, await self.engine.handle(event))
        await self.dispatcher.delivered(event.key)
