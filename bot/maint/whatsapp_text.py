"""What WhatsApp shows of a button label (``onboard locales check``, issue 18).

A reply button's title takes at most 20 characters and a list row's 24, with a description of
72 under it. The renderer (bot/channels/whatsapp/render.py) shows a longer label as a list row,
the row's description holding it whole, so a flow's label is cut on WhatsApp only beyond 72
characters. The labels only WhatsApp shows (its "Choose" list button, "Use this number", the
"Open" of a long link) are button titles themselves: at most 20.
"""

from __future__ import annotations

from bot.channels.whatsapp.render import (
    BUTTON_TITLE,
    ROW_DESCRIPTION,
    WHATSAPP_LABELS,
)
from bot.maint.telegram_text import visible_length

WHATSAPP_BUTTON = "whatsapp_button"
"""The role of a label only WhatsApp shows (its limits are Telegram's button limits too)."""


def whatsapp_problems(text: str, role: str) -> list[str]:
    length = visible_length(text)
    if role == WHATSAPP_BUTTON and length > BUTTON_TITLE:
        return [f"{length} characters, over WhatsApp's {BUTTON_TITLE}-character button title"]
    if role == "button" and length > ROW_DESCRIPTION:
        return [
            f"{length} characters, over the {ROW_DESCRIPTION} characters WhatsApp shows of a "
            "button label (a list row's description)"
        ]
    return []


__all__ = ["WHATSAPP_BUTTON", "WHATSAPP_LABELS", "whatsapp_problems"]
