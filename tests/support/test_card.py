"""The ticket card stays one valid Telegram HTML message however long and hostile the
description is (cutting the HTML afterwards could split an entity, which Telegram refuses)."""

from __future__ import annotations

import html
import re

from bot.channels.telegram.render import TELEGRAM_TEXT_LIMIT, fit
from bot.support.card import card
from dialogs.events import ConversationKey
from dialogs.i18n import Catalogs
from dialogs.ports import TicketKind, TicketStatus
from storage.ticket_records import TicketRecord


def ticket(description: str) -> TicketRecord:
    return TicketRecord(
        id=7,
        ref="r7",
        key=ConversationKey(1, 42, 42),
        kind=TicketKind.TICKET,
        status=TicketStatus.OPEN,
        title="<b>Broken</b> & down",
        description=description,
        locale="en",
        created_at=0.0,
    )


def test_a_long_hostile_description_is_cut_before_escaping_not_after() -> None:
    text = card(ticket("&<" * 1500), Catalogs(), "en", attachments=2)  # 3,000 characters
    assert len(text) <= TELEGRAM_TEXT_LIMIT
    assert "…" in text
    assert re.search(r"&[a-z]*…", text) is None  # no entity cut in half
    assert text.endswith("📎 Attachments follow: 2")
    assert "&lt;b&gt;Broken&lt;/b&gt; &amp; down" in text


def test_a_short_description_is_kept_whole() -> None:
    text = card(ticket("Printer says <error 5> & stops"), Catalogs(), "en")
    assert html.escape("Printer says <error 5> & stops", quote=False) in text
    assert "…" not in text


def test_fit() -> None:
    assert fit("a&b", 10) == "a&amp;b"
    assert fit("a&b", 6) == "a…"
    assert fit("abc", 1) == "…"
