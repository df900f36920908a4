"""gettext catalogs, loaded once per process.

The locale of the turn being handled lives in a ContextVar. Strings defined at import time are
marked with :func:`N_` (a no-op that extraction finds) and translated when rendered.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE_LOCALE = "en"
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "bg", "hu", "kk", "de", "pl")
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "bg": "Български",
    "hu": "Magyar",
    "kk": "Қазақша",
    "de": "Deutsch",
    "pl": "Polski",
}
DOMAIN = "messages"
DEFAULT_LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

current_locale: ContextVar[str] = ContextVar("current_locale", default=SOURCE_LOCALE)
log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, when rendered."""
    return message


def NN_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for extraction (keyword ``NN_:1,2``)."""
    return singular, plural


def negotiate(language_code: str | None) -> str:
    """Telegram's ``language_code`` (e.g. ``de-AT``) to a supported locale, else English."""
    if not language_code:
        return SOURCE_LOCALE
    base = language_code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED_LOCALES else SOURCE_LOCALE


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = current_locale.set(locale)
    try:
        yield
    finally:
        current_locale.reset(token)


class Catalogs:
    """All locales' translations plus the template's message ids."""

    def __init__(self, directory: Path = DEFAULT_LOCALES_DIR) -> None:
        self.directory = directory
        self._translations: dict[str, NullTranslations] = {
            locale: self._load(locale) for locale in SUPPORTED_LOCALES
        }
        self.template_ids: frozenset[str] = self._template_ids()

    def gettext(self, msgid: str, locale: str | None = None) -> str:
        return str(self._for(locale).gettext(msgid))

    def ngettext(self, singular: str, plural: str, n: int, locale: str | None = None) -> str:
        return str(self._for(locale).ngettext(singular, plural, n))

    def _for(self, locale: str | None) -> NullTranslations:
        return self._translations.get(locale or current_locale.get(), self._translations["en"])

    def _load(self, locale: str) -> NullTranslations:
        if locale == SOURCE_LOCALE:
            return NullTranslations()
        folder = self.directory / locale / "LC_MESSAGES"
        mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return GNUTranslations(handle)
        if po.exists():
            log.info("compiling %s in memory (run `onboard locales compile`)", po)
            return _compile_in_memory(po, locale)
        log.warning("no catalog for %s in %s; falling back to English", locale, folder)
        return NullTranslations()

    def _template_ids(self) -> frozenset[str]:
        pot = self.directory / f"{DOMAIN}.pot"
        if not pot.exists():
            return frozenset()
        with pot.open("rb") as handle:
            return frozenset(
                str(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id
            )


def _compile_in_memory(po: Path, locale: str) -> GNUTranslations:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return GNUTranslations(buffer)
