"""Checks of one catalog entry: translated, placeholders, Telegram HTML, length, glossary.

Placeholders and tag parity reuse translate-toolkit's checks (the engine behind Weblate:
``pythonbraceformat`` and ``xmltags`` of its ``StandardChecker``); what is Telegram's own —
the tags it accepts, balance, limits — is in :mod:`bot.maint.telegram_text`.
"""

from __future__ import annotations

from collections.abc import Iterator

from babel.messages.catalog import Message
from translate.filters.checks import CheckerConfig, FilterFailure, StandardChecker

from bot.maint.glossary import Glossary
from bot.maint.telegram_text import html_problems, length_problem
from bot.maint.whatsapp_text import WHATSAPP_BUTTON, whatsapp_problems
from dialogs.render import placeholders


def source_forms(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def translated_forms(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def text_problems(text: str, role: str) -> list[str]:
    """What Telegram would refuse in any text we send (English source or translation), and
    a button label WhatsApp would cut."""
    problems = html_problems(text)
    too_long = length_problem(text, "button" if role == WHATSAPP_BUTTON else role)
    problems += whatsapp_problems(text, role)
    return [*problems, too_long] if too_long else problems


class EntryChecker:
    """Checks translations of one locale."""

    def __init__(self, locale: str, glossary: Glossary | None) -> None:
        self.locale = locale
        self.glossary = glossary
        config = CheckerConfig(targetlanguage=locale, varmatches=[("{", "}")])
        self.toolkit = StandardChecker(config)

    def problems(self, message: Message, role: str) -> list[str]:
        forms = translated_forms(message)
        if message.fuzzy:
            return ["fuzzy translation: review it, then remove the fuzzy flag"]
        if not forms or not all(forms):
            return ["untranslated"]
        sources = source_forms(message)
        found: list[str] = []
        for index, form in enumerate(forms):
            source = sources[min(index, len(sources) - 1)]
            label = f"plural form {index}: " if len(sources) > 1 else ""
            found += [label + p for p in self._pair(sources, source, form, role)]
        if self.glossary is not None:
            found += self.glossary.problems(" ".join(sources), " ".join(forms))
        return found

    def _pair(self, sources: tuple[str, ...], source: str, form: str, role: str) -> Iterator[str]:
        yield from self._placeholders(sources, source, form)
        yield from self._toolkit("xmltags", source, form, "HTML tags differ from the source")
        yield from text_problems(form, role)

    def _placeholders(self, sources: tuple[str, ...], source: str, form: str) -> Iterator[str]:
        if len(sources) == 1:
            yield from self._toolkit("pythonbraceformat", source, form, "placeholders differ")
            return
        # Plural forms: a form may leave out {count} ("one" forms often say the number in words).
        known = set().union(*(placeholders(s) for s in sources))
        got = placeholders(form)
        if got - known:
            yield f"unknown placeholders {_braced(got - known)} (the source has {_braced(known)})"
        if (known - {"count"}) - got:
            yield f"placeholders missing: {_braced((known - {'count'}) - got)}"

    def _toolkit(self, test: str, source: str, form: str, what: str) -> Iterator[str]:
        try:
            getattr(self.toolkit, test)(source, form)
        except FilterFailure as failure:
            yield f"{what} ({'; '.join(failure.messages)})"


def _braced(names: set[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(names)) or "none"
