"""The time zone of the times a customer reads (ticket dialogues), named beside each time.

Telegram does not tell a user's zone, so each language has a default zone — its country's —
that ``TIME_ZONES`` (``pl=Europe/Warsaw,en=Europe/London``) can change. Times are formatted
by Babel (CLDR) in the customer's language and end with the zone's name in that language,
e.g. ``15.01.27, 09:00 (Mitteleuropäische Normalzeit)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime

DEFAULT_ZONES: Mapping[str, str] = MappingProxyType(
    {
        "bg": "Europe/Sofia",
        "hu": "Europe/Budapest",
        "kk": "Asia/Almaty",
        "de": "Europe/Berlin",
        "pl": "Europe/Warsaw",
        "en": "UTC",
    }
)
FALLBACK_ZONE = "UTC"


def parse_zones(text: str) -> dict[str, str]:
    """``"pl=Europe/Warsaw, en=Europe/London"`` as a mapping; ValueError names a bad entry."""
    zones: dict[str, str] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        locale, _, zone = (item.strip() for item in entry.partition("="))
        if not locale or not zone:
            raise ValueError(f"{entry!r} is not LANGUAGE=ZONE (e.g. pl=Europe/Warsaw)")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not a time zone (e.g. Europe/Warsaw)") from None
        zones[locale] = zone
    return zones


def zone_of(locale: str, zones: Mapping[str, str]) -> tzinfo:
    """The zone shown to a customer in ``locale``: configured, else the language's default."""
    name = zones.get(locale) or DEFAULT_ZONES.get(locale) or FALLBACK_ZONE
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # no tz database installed: say UTC rather than fail
        return ZoneInfo(FALLBACK_ZONE)


def local_time(at: float, locale: str, zone: tzinfo) -> str:
    """``at`` (a Unix time) as the customer reads it: date, time and the zone's name."""
    moment = datetime.fromtimestamp(at, zone)
    when = format_datetime(moment, "short", tzinfo=zone, locale=locale)
    name = format_datetime(moment, "zzzz", tzinfo=zone, locale=locale)
    return f"{when} ({name})"
