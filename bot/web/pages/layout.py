"""The hand-off pages: Jinja2 templates (``bot/web/templates``, autoescape on), one base layout.

No HTML is built in Python: a page module translates its texts (:class:`Words`) and hands
them to a template, which escapes every value. No inline script or style anywhere (the CSP
forbids both): behaviour comes from ``/static/*.js``, and what a script needs to know travels
in ``data-`` attributes. ``miniapp.js`` is on every page (it does nothing outside Telegram).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import Param, Text

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


@functools.cache
def templates() -> jinja2.Environment:
    """Loaded once per process, like the compiled catalogs; read-only afterwards."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
    )


@dataclass(frozen=True, slots=True)
class Words:
    """Translates into one locale (the templates escape)."""

    catalogs: Catalogs
    locale: str

    def __call__(self, msgid: str, **params: Param) -> str:
        return self.text(Text(msgid, params))

    def text(self, text: Text) -> str:
        return render(text, self.catalogs, self.locale)


@dataclass(frozen=True, slots=True)
class Errors:
    """The server's refusal, naming each rule (``role=alert``: read out at once)."""

    heading: str
    items: tuple[str, ...] = ()


def page(
    words: Words,
    title: str,
    template: str = "message.html",
    *,
    status: int = 200,
    scripts: tuple[str, ...] = (),
    done: bool = False,
    errors: Errors | None = None,
    **context: Any,
) -> web.Response:
    """A whole page; ``title`` is a msgid. ``done``: the hand-off is complete (inside
    Telegram the Mini App then closes itself)."""
    html = (
        templates()
        .get_template(template)
        .render(
            lang=words.locale,
            title=words(title),
            scripts=("miniapp.js", *scripts),
            done=done,
            errors=errors,
            **context,
        )
    )
    return web.Response(text=html, content_type="text/html", status=status)


def message(
    words: Words, title: str, text: str, *, status: int = 200, done: bool = False
) -> web.Response:
    """A page that only says something (``text`` already translated)."""
    return page(words, title, status=status, done=done, text=text)
