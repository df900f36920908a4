"""Neutral output: what to say (a message id and its parameters) and which buttons to offer.

Rendering to text happens at the edge, in the conversation's locale.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

# A placeholder's value: a string, a number, or a nested text rendered in the same locale
# (e.g. a duration with its own plural forms, see dialogs.durations).
Param = Union[str, int, "Text"]


class ButtonKind(enum.StrEnum):
    CALLBACK = "callback"
    LINK = "link"
    CONTACT = "contact"  # asks the client to share the user's own phone number


@dataclass(frozen=True, slots=True)
class Text:
    """A translatable text: gettext msgid (English source) plus ``{placeholder}`` values.

    ``literal`` texts (e.g. a language's own name) are shown as they are.
    """

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)
    literal: bool = False
    plural: str | None = None  # plural msgid; ``count`` picks the form
    count: int = 0


@dataclass(frozen=True, slots=True)
class Button:
    label: Text
    kind: ButtonKind = ButtonKind.CALLBACK
    data: str = ""  # callback data, or the URL of a link button
    in_app: bool = False  # a link to our own page: a messenger may open it inside the chat


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent in the chat (e.g. /mydata's JSON); the reply's text is its caption."""

    filename: str
    content: str
    mime_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    text: Text
    buttons: tuple[Button, ...] = ()
    remove_keyboard: bool = False
    document: Document | None = None


def say(msgid: str, /, **params: Param) -> Text:
    return Text(msgid, params)


def say_n(forms: tuple[str, str], count: int, /, **params: Param) -> Text:
    """A text with plural forms (from ``NN_``); ``{count}`` is available as a placeholder."""
    return Text(forms[0], {"count": count, **params}, plural=forms[1], count=count)
