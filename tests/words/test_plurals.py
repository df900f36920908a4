"""Every count a customer reads goes through plural forms (issue 17, item 14).

"след 1 минути", "in 1 Minuten", "przez 2 minut", "for 1 minutes" came from messages that put a
bare number before a fixed noun ("{minutes} minutes"). Durations are now a nested text with
its own plural forms (dialogs.durations), and the catalogs carry every CLDR form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from dialogs import durations
from dialogs.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES, Catalogs
from dialogs.render import render
from tests.conftest import make_settings
from tests.web.helpers import Clock, page_bed, write_test_flows

pytestmark = pytest.mark.stumbles

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
CATALOGS = Catalogs()
COUNTS = (1, 2, 5, 21, 22)

# What a native speaker writes after "for" / "in" (pl: accusative).
MINUTES = {
    "en": ["1 minute", "2 minutes", "5 minutes", "21 minutes", "22 minutes"],
    "bg": ["1 минута", "2 минути", "5 минути", "21 минути", "22 минути"],
    "de": ["1 Minute", "2 Minuten", "5 Minuten", "21 Minuten", "22 Minuten"],
    "hu": ["1 perc", "2 perc", "5 perc", "21 perc", "22 perc"],
    "kk": ["1 минут", "2 минут", "5 минут", "21 минут", "22 минут"],
    "pl": ["1 minutę", "2 minuty", "5 minut", "21 minut", "22 minuty"],
}
HOURS = {
    "en": ["1 hour", "2 hours", "5 hours", "21 hours", "22 hours"],
    "bg": ["1 час", "2 часа", "5 часа", "21 часа", "22 часа"],
    "de": ["1 Stunde", "2 Stunden", "5 Stunden", "21 Stunden", "22 Stunden"],
    "hu": ["1 óra", "2 óra", "5 óra", "21 óra", "22 óra"],
    "kk": ["1 сағат", "2 сағат", "5 сағат", "21 сағат", "22 сағат"],
    "pl": ["1 godzinę", "2 godziny", "5 godzin", "21 godzin", "22 godziny"],
}
# The password link's message (the bg flow's text, reused by the test flows) around {minutes}.
HANDOFF = {
    "en": "for {}).",
    "bg": "валиден {}).",
    "de": "ist {} gültig).",
    "hu": "érvényessége {}).",
    "kk": "{} ішінде жұмыс істейді).",
    "pl": "przez {}).",
}
COUNTED = re.compile(r"\{count\}[ -]?\w")
# A number placeholder right before a unit word: the pattern that produced "1 minutes".
BARE_COUNT = re.compile(
    r"\{(minutes|hours|seconds|days|count)\}\s*"
    r"(minute|hour|second|day|Minute|Stunde|Sekunde|Tag|мин|час|секунд|ден|дни|perc|óra|"
    r"másodperc|nap|минут|сағат|секунд|күн|min|godz|sekund|dni|dzień)",
    re.IGNORECASE,
)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_minutes_and_hours_take_the_form_the_count_needs(locale: str) -> None:
    assert [render(durations.minutes(n), CATALOGS, locale) for n in COUNTS] == MINUTES[locale]
    assert [render(durations.hours(n), CATALOGS, locale) for n in COUNTS] == HOURS[locale]


@pytest.mark.parametrize("ttl", [1, 2, 5, 21])
async def test_the_password_link_names_its_lifetime_in_every_locale(
    tmp_path: Path, ttl: int
) -> None:
    """Through the chat: the message with the link, as each customer reads it."""
    settings = make_settings(
        tmp_path, password_link_ttl_minutes=ttl, portal_handoff_url="https://portal.example.com/"
    )
    async with page_bed(settings, write_test_flows(tmp_path / "flows"), Clock()) as bed:
        for user, locale in enumerate(SUPPORTED_LOCALES, start=1):
            bed.lines.clear()
            await bed.start("kk-policy", user=user, locale=locale)
            phrase = MINUTES[locale][COUNTS.index(ttl)]
            assert HANDOFF[locale].format(phrase) in "\n".join(bed.lines), (locale, bed.lines)


def catalog_entries(locale: str) -> list[tuple[str, str]]:
    name = "messages.pot" if locale == SOURCE_LOCALE else f"{locale}/LC_MESSAGES/messages.po"
    with (LOCALES_DIR / name).open("rb") as handle:
        catalog = read_po(handle, locale=None if locale == SOURCE_LOCALE else locale)
    pairs = []
    for message in catalog:
        if not message.id or message.pluralizable:
            continue
        text = message.id if locale == SOURCE_LOCALE else message.string
        pairs.append((str(message.id), str(text)))
    return pairs


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_no_single_form_message_puts_a_count_before_a_unit(locale: str) -> None:
    offenders = [msgid for msgid, text in catalog_entries(locale) if BARE_COUNT.search(text)]
    assert offenders == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_a_count_placeholder_only_in_messages_with_plural_forms(locale: str) -> None:
    """ "{count} characters" needs plural forms; "Attachments follow: {count}" does not."""
    offenders = [msgid for msgid, text in catalog_entries(locale) if COUNTED.search(text)]
    assert offenders == []


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED_LOCALES if loc != SOURCE_LOCALE])
def test_every_plural_entry_has_every_cldr_form(locale: str) -> None:
    forms = len(Locale.parse(locale).plural_form.tags | {"other"})
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    plural = [m for m in catalog if m.id and m.pluralizable]
    assert plural, "no plural entries at all"
    for message in plural:
        assert len(message.string) == min(forms, 3 if locale == "pl" else forms), message.id
        assert all(message.string), message.id
