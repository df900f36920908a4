"""Our HTML subset (what Telegram's HTML parse mode takes) → WhatsApp's formatting.

``<b>`` → ``*bold*``, ``<i>`` → ``_italic_``, ``<s>`` → ``~strike~``, ``<code>`` → ```mono```,
``<a href="u">label</a>`` → ``label (u)``, ``<br>`` → a new line, entities decoded, other tags
dropped. WhatsApp has no escape character: a ``*``, ``_``, ``~`` or ````` in the text itself (a
customer's e-mail ``jan_kowalski@…``, a ticket title) is followed by a zero-width space, so two
of them never pair up into formatting the text did not mean, and it still reads the same.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

WHATSAPP_TEXT_LIMIT = 4096
MARKERS = {"b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "del": "~", "code": "```"}
_NEUTRAL = str.maketrans({c: c + "\u200b" for c in "*_~`"})


def escape_html(value: str) -> str:
    """A parameter value made safe for the HTML template it is put into."""
    return html.escape(value, quote=False)


def neutral(text: str) -> str:
    """Plain text whose formatting characters cannot pair up."""
    return text.translate(_NEUTRAL)


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, int]] = []  # (tag, index of its part)
        self.href: str | None = None
        self.link_start = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in MARKERS:
            self.open.append((tag, len(self.parts)))
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_start = len(self.parts)

    def handle_endtag(self, tag: str) -> None:
        if tag in MARKERS and self.open and self.open[-1][0] == tag:
            _, start = self.open.pop()
            inner = "".join(self.parts[start:])
            del self.parts[start:]
            self.parts.append(_wrap(inner, MARKERS[tag]))
        elif tag == "a" and self.href:
            label = "".join(self.parts[self.link_start :]).strip()
            url = self.href
            self.href = None
            if label and label != url:
                self.parts.append(f" ({url})")

    def handle_data(self, data: str) -> None:
        self.parts.append(neutral(data))


def _wrap(inner: str, marker: str) -> str:
    """``*x*`` needs its markers next to the text: spaces stay outside."""
    core = inner.strip()
    if not core:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return f"{lead}{marker}{core}{marker}{trail}"


def to_whatsapp(markup: str) -> str:
    converter = _Converter()
    converter.feed(markup)
    converter.close()
    return "".join(converter.parts)


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
