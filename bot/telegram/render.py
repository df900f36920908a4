"""Neutral replies → Bot API ``sendMessage`` arguments (HTML parse mode, user text escaped)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode

from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import ButtonKind, Reply

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
TELEGRAM_TEXT_LIMIT = 4096


def escape(value: str) -> str:
    return html.escape(value, quote=False)


@dataclass(frozen=True, slots=True)
class Outgoing:
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

    def reply(self, reply: Reply, locale: str) -> Outgoing:
        text = render(reply.text, self.catalogs, locale, escape)[:TELEGRAM_TEXT_LIMIT]
        contact = [b for b in reply.buttons if b.kind is ButtonKind.CONTACT]
        if contact:
            rows = [
                [KeyboardButton(render(b.label, self.catalogs, locale), request_contact=True)]
                for b in contact
            ]
            markup: Markup = ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
            return Outgoing(text, markup)
        inline = [b for b in reply.buttons if b.kind is not ButtonKind.CONTACT]
        if inline:
            rows_inline = [
                [self._inline(b.kind, render(b.label, self.catalogs, locale), b.data)]
                for b in inline
            ]
            links = tuple(
                (render(b.label, self.catalogs, locale), b.data)
                for b in inline
                if b.kind is ButtonKind.LINK
            )
            return Outgoing(text, InlineKeyboardMarkup(rows_inline), links)
        return Outgoing(text, ReplyKeyboardRemove() if reply.remove_keyboard else None)

    @staticmethod
    def _inline(kind: ButtonKind, label: str, data: str) -> InlineKeyboardButton:
        if kind is ButtonKind.LINK:
            return InlineKeyboardButton(label, url=data)
        return InlineKeyboardButton(label, callback_data=data)
