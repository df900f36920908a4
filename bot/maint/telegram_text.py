"""What Telegram accepts in a text sent with ``parse_mode=HTML``, and how long it may be.

Catalog texts go out as HTML (only the customer's own words are escaped), so a stray ``<`` or
``&``, a tag Telegram does not know, or an unclosed tag makes the Bot API refuse the message
("can't parse entities") — the customer would see nothing. Limits are counted the way Telegram
counts them: after the tags are parsed, in UTF-16 code units.
"""

from __future__ import annotations

import html
import re

from bot.maint.flow_texts import LIMITS

ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)([^<>]*)>")
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);")


def html_problems(text: str) -> list[str]:
    """Why Telegram would refuse ``text`` as HTML (empty: it is fine)."""
    problems: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in TAG.finditer(text):
        problems += _stray(text[position : match.start()])
        position = match.end()
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
        if name not in ALLOWED_TAGS:
            problems.append(f"HTML tag <{name}> is not accepted by Telegram")
        elif closing:
            if not open_tags or open_tags[-1] != name:
                problems.append(f"closing tag </{name}> does not match an open tag")
            else:
                open_tags.pop()
        elif attributes.rstrip().endswith("/"):
            problems.append(f"self-closing <{name}/> is not accepted by Telegram")
        else:
            open_tags.append(name)
    problems += _stray(text[position:])
    problems += [f"tag <{name}> is never closed" for name in open_tags]
    return problems


def _stray(chunk: str) -> list[str]:
    problems = []
    if "<" in chunk or ">" in chunk:
        problems.append("a bare '<' or '>' must be written as &lt; or &gt;")
    if "&" in ENTITY.sub("", chunk):
        problems.append("a bare '&' must be written as &amp;")
    return problems


def visible_length(text: str) -> int:
    """Length as Telegram counts it: tags removed, entities decoded, UTF-16 code units."""
    plain = html.unescape(TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def length_problem(text: str, role: str) -> str | None:
    limit = LIMITS[role]
    length = visible_length(text)
    if length <= limit:
        return None
    return f"{length} characters, over the {limit}-character limit for a {role}"
