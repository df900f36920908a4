"""Neutral replies → Bot API ``sendMessage`` arguments (HTML parse mode, user text escaped)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from telegram.constants import ParseMode

from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import Button, ButtonKind, Reply

Markup = dict[str, Any] | None
"""A ``reply_markup`` as the Bot API's JSON (plain dicts: building python-telegram-bot's
keyboard objects only for its request layer to turn them back into dicts cost ~40 µs a
reply on the hot path)."""
REMOVE_KEYBOARD: dict[str, Any] = {"remove_keyboard": True}
TELEGRAM_TEXT_LIMIT = 4096


def escape(value: str) -> str:
    return html.escape(value, quote=False)


def within_limit(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """A message Telegram accepts. Cutting HTML could split an entity or leave a tag open
    (Telegram refuses both), so an over-long text (e.g. an agent's 4,096-character answer
    inside our wrapper) loses its formatting and is cut as plain text by :func:`fit`."""
    if len(text) <= limit:
        return text
    return fit(html.unescape(re.sub(r"<[^>]*>", "", text)), limit)


def fit(text: str, room: int) -> str:
    """Plain ``text`` escaped for HTML, cut (with …) so that it takes at most ``room``
    characters: the cut falls between characters of the text, never inside an entity."""
    escaped = escape(text)
    if len(escaped) <= room:
        return escaped
    low, high = 0, len(text)
    while low < high:  # the longest prefix whose escaped form fits with the ellipsis
        middle = (low + high + 1) // 2
        if len(escape(text[:middle])) + 1 <= room:
            low = middle
        else:
            high = middle - 1
    return escape(text[:low]) + "…"


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """A reply rendered for the Bot API: HTML text and its keyboard (not a mail or SMS, which
    is :class:`dialogs.ports.Outgoing`)."""

    text: str
    markup: Markup
    links: tuple[tuple[str, str], ...] = ()  # (label, url): shown in the text if buttons fail

    def kwargs(self) -> dict[str, object]:
        return {"text": self.text, "parse_mode": ParseMode.HTML, "reply_markup": self.markup}

    def without_link_buttons(self) -> dict[str, object]:
        """Fallback when the Bot API refuses a link button (e.g. a non-public URL)."""
        lines = [
            self.text,
            *(f'<a href="{html.escape(url)}">{escape(label)}</a>' for label, url in self.links),
        ]
        return {"text": "\n\n".join(lines), "parse_mode": ParseMode.HTML}


class TelegramRenderer:
    def __init__(self, catalogs: Catalogs) -> None:
        self.catalogs = catalogs

    def reply(self, reply: Reply, locale: str, *, private: bool = True) -> TelegramMessage:
        """``private``: a one-to-one chat, where our pages open as a Mini App."""
        text = within_limit(render(reply.text, self.catalogs, locale, escape))
        contact = [b for b in reply.buttons if b.kind is ButtonKind.CONTACT]
        if contact:
            rows = [
                [{"text": render(b.label, self.catalogs, locale), "request_contact": True}]
                for b in contact
            ]
            markup = {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}
            return TelegramMessage(text, markup)
        inline = [b for b in reply.buttons if b.kind is not ButtonKind.CONTACT]
        if inline:
            rows_inline = [
                [self._inline(b, render(b.label, self.catalogs, locale), private)] for b in inline
            ]
            links = tuple(
                (render(b.label, self.catalogs, locale), b.data)
                for b in inline
                if b.kind is ButtonKind.LINK
            )
            return TelegramMessage(text, {"inline_keyboard": rows_inline}, links)
        return TelegramMessage(text, REMOVE_KEYBOARD if reply.remove_keyboard else None)

    @staticmethod
    def _inline(button: Button, label: str, private: bool) -> dict[str, object]:
        """Our own pages open inside Telegram (``web_app``: private chats, HTTPS only)."""
        if button.kind is not ButtonKind.LINK:
            return {"text": label, "callback_data": button.data}
        if button.in_app and private and button.data.startswith("https://"):
            return {"text": label, "web_app": {"url": button.data}}
        return {"text": label, "url": button.data}
