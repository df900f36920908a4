"""Turn a neutral :class:`~dialogs.replies.Text` into the words a person reads."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from dialogs.i18n import Catalogs
from dialogs.replies import Param, Text

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def placeholders(message: str) -> set[str]:
    return set(PLACEHOLDER.findall(message))


def fill(template: str, params: Mapping[str, str]) -> str:
    """``str.format`` without its traps: unknown or stray braces stay as they are."""
    return PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), template)


def render(text: Text, catalogs: Catalogs, locale: str, escape: Callable[[str], str] = str) -> str:
    """Translate ``text`` into ``locale``; every parameter value goes through ``escape``."""
    if text.literal:
        return escape(text.msgid)
    if text.plural is not None:
        template = catalogs.ngettext(text.msgid, text.plural, text.count, locale)
    else:
        template = catalogs.gettext(text.msgid, locale)
    return fill(
        template, {name: _value(v, catalogs, locale, escape) for name, v in text.params.items()}
    )


def _value(value: Param, catalogs: Catalogs, locale: str, escape: Callable[[str], str]) -> str:
    if isinstance(value, Text):
        return render(value, catalogs, locale, escape)
    return escape(str(value))
