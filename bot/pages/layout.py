"""HTML for the hand-off pages: one layout, every text translated and escaped.

No inline script or style anywhere (the CSP forbids both): behaviour comes from
``/static/*.js``, and what a script needs to know travels in ``data-`` attributes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from string import Template

from aiohttp import web

from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import Param, Text

LAYOUT = Template(
    """<!doctype html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>$title</title>
<link rel="stylesheet" href="/static/page.css">
$scripts
</head>
<body>
<main>
<h1>$title</h1>
$body
</main>
</body>
</html>
"""
)


@dataclass(frozen=True, slots=True)
class Words:
    """Translates into one locale and escapes for HTML."""

    catalogs: Catalogs
    locale: str

    def __call__(self, msgid: str, **params: Param) -> str:
        return self.text(Text(msgid, params))

    def text(self, text: Text) -> str:
        return html.escape(render(text, self.catalogs, self.locale))


def attr(value: str) -> str:
    """A value for a double-quoted HTML attribute."""
    return html.escape(value, quote=True)


def page(
    words: Words, title: str, body: str, *, status: int = 200, scripts: tuple[str, ...] = ()
) -> web.Response:
    """A whole page; ``title`` is a msgid, ``body`` HTML built from escaped parts."""
    tags = "\n".join(f'<script src="/static/{attr(name)}" defer></script>' for name in scripts)
    text = LAYOUT.substitute(lang=attr(words.locale), title=words(title), body=body, scripts=tags)
    return web.Response(text=text, content_type="text/html", status=status)


def paragraph(text: str, css: str = "") -> str:
    klass = f' class="{attr(css)}"' if css else ""
    return f"<p{klass}>{text}</p>"


def error_list(heading: str, items: list[str]) -> str:
    """The server's refusal, naming each rule (``role=alert``: read out at once)."""
    entries = "".join(f"<li>{item}</li>" for item in items)
    return f'<div class="errors" role="alert" id="errors"><p>{heading}</p><ul>{entries}</ul></div>'
