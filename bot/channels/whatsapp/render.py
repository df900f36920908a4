"""Neutral replies → Cloud API message payloads (what fits WhatsApp's limits).

* a reply's text → a ``text`` message (≤ 4,096 characters) in WhatsApp's formatting;
* up to three choices with titles of ≤ 20 characters → reply buttons (``interactive`` /
  ``button``; the body ≤ 1,024 characters, else the text goes first on its own);
* more choices, up to ten → a list message (rows ≤ 24 characters, a longer label goes on in the
  row's description); more than ten → numbered lines the customer answers with the number
  (:attr:`Rendered.menu` says which choice each number is);
* a link → a CTA URL button (``interactive`` / ``cta_url``), one message per link;
* "share my phone number" → a reply button that shares the sender's own WhatsApp number
  (:data:`OWN_NUMBER`): WhatsApp has no contact-request button, and the number the customer
  writes from is theirs;
* a document (e.g. /mydata's JSON) → uploaded and sent as a ``document`` with the text as its
  caption (the sender uploads it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.channels.whatsapp.format import (
    WHATSAPP_TEXT_LIMIT,
    cut,
    escape_html,
    neutral,
    to_whatsapp,
)
from dialogs.i18n import N_, Catalogs
from dialogs.render import render
from dialogs.replies import Button, ButtonKind, Document, Reply, Text

Payload = dict[str, Any]
OWN_NUMBER = "wa:own-number"
"""The id of the reply button that shares the sender's own number."""
MAX_BUTTONS, BUTTON_TITLE = 3, 20
MAX_ROWS, ROW_TITLE, ROW_DESCRIPTION = 10, 24, 72
BODY_LIMIT = 1024
CAPTION_LIMIT = 1024
REPLY_ID_LIMIT = 256
ROW_ID_LIMIT = 200
CHOOSE = N_("Choose")
OR_CHOOSE = N_("Please choose:")
ANSWER_BY_NUMBER = N_("Answer with the number of your choice.")
USE_THIS_NUMBER = N_("Use this number")
"""The label of :data:`OWN_NUMBER` (≤ 20 characters in every language)."""
OPEN_LINK = N_("Open")
"""A link button's label when the link's own label is over WhatsApp's 20 characters (the
label is then the last line of the message's text)."""
WHATSAPP_LABELS = (CHOOSE, USE_THIS_NUMBER, OPEN_LINK)
"""Labels only WhatsApp shows, each a button title (``onboard locales check``: ≤ 20)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one reply becomes: messages in order, a document to upload first (its caption is
    the text), and the numbered menu (callback data by number) when the choices are lines."""

    messages: tuple[Payload, ...]
    document: Document | None = None
    caption: str = ""
    menu: tuple[str, ...] | None = None
    plain: str = field(default="", compare=False)  # the text alone (a template's parameter)


def text_message(body: str) -> Payload:
    return {"type": "text", "text": {"body": cut(body, WHATSAPP_TEXT_LIMIT), "preview_url": False}}


class WhatsAppRenderer:
    def __init__(self, catalogs: Catalogs) -> None:
        self.catalogs = catalogs

    def label(self, text: Text, locale: str) -> str:
        return render(text, self.catalogs, locale)

    def reply(self, reply: Reply, locale: str) -> Rendered:
        body = to_whatsapp(render(reply.text, self.catalogs, locale, escape_html))
        if reply.document is not None:
            return Rendered((), reply.document, cut(body, CAPTION_LIMIT), plain=body)
        links = [b for b in reply.buttons if b.kind is ButtonKind.LINK]
        choices = [b for b in reply.buttons if b.kind is not ButtonKind.LINK]
        messages: list[Payload] = []
        menu: tuple[str, ...] | None = None
        if links:
            messages += self._links(body if not choices else "", links, locale)
            if choices:
                messages.insert(0, text_message(body))
                body = self.label(Text(OR_CHOOSE), locale)
        if choices:
            choice_messages, menu = self._choices(body, choices, locale)
            messages += choice_messages
        if not messages:
            messages.append(text_message(body))
        return Rendered(tuple(messages), menu=menu, plain=body)

    def _links(self, body: str, links: list[Button], locale: str) -> list[Payload]:
        messages: list[Payload] = []
        if len(body) > BODY_LIMIT:
            messages.append(text_message(body))
            body = ""
        for button in links:
            label = self.label(button.label, locale)
            shown = label
            if len(label) > BUTTON_TITLE:
                shown = self.label(Text(OPEN_LINK), locale)
                body = f"{body}\n\n{neutral(label)}" if body else neutral(label)
            messages.append(_cta(body or neutral(label), cut(shown, BUTTON_TITLE), button.data))
            body = ""
        return messages

    def _choices(
        self, body: str, buttons: list[Button], locale: str
    ) -> tuple[list[Payload], tuple[str, ...] | None]:
        labels = [
            self.label(Text(USE_THIS_NUMBER) if b.kind is ButtonKind.CONTACT else b.label, locale)
            for b in buttons
        ]
        ids = [OWN_NUMBER if b.kind is ButtonKind.CONTACT else b.data for b in buttons]
        lead: list[Payload] = []
        if len(body) > BODY_LIMIT:
            lead, body = [text_message(body)], self.label(Text(OR_CHOOSE), locale)
        fits = all(len(i) <= REPLY_ID_LIMIT for i in ids)
        if len(buttons) <= MAX_BUTTONS and fits and all(len(x) <= BUTTON_TITLE for x in labels):
            return [*lead, _buttons(body, ids, labels)], None
        if len(buttons) <= MAX_ROWS and all(len(i) <= ROW_ID_LIMIT for i in ids):
            button = cut(self.label(Text(CHOOSE), locale), BUTTON_TITLE)
            return [*lead, _list(body, button, ids, labels)], None
        lines = [f"{number}. {neutral(label)}" for number, label in enumerate(labels, start=1)]
        hint = self.label(Text(ANSWER_BY_NUMBER), locale)
        numbered = "\n".join([*([body] if body else []), "", *lines, "", hint]).strip()
        return [*lead, text_message(numbered)], tuple(ids)


def _buttons(body: str, ids: list[str], labels: list[str]) -> Payload:
    buttons = [
        {"type": "reply", "reply": {"id": id_, "title": label}}
        for id_, label in zip(ids, labels, strict=True)
    ]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
    }


def _list(body: str, button: str, ids: list[str], labels: list[str]) -> Payload:
    rows = []
    for id_, label in zip(ids, labels, strict=True):
        row: Payload = {"id": id_, "title": cut(label, ROW_TITLE)}
        if len(label) > ROW_TITLE:
            row["description"] = cut(label, ROW_DESCRIPTION)
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": [{"rows": rows}]},
        },
    }


def _cta(body: str, label: str, url: str) -> Payload:
    return {
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": cut(body, BODY_LIMIT)},
            "action": {"name": "cta_url", "parameters": {"display_text": label, "url": url}},
        },
    }
