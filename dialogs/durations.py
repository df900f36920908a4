"""Durations a person reads ("in 5 minutes", "for 24 hours"), always through plural forms.

A message says ``{minutes}`` or ``{hours}`` where the whole phrase goes ("for {minutes}"), and
the step fills it with :func:`minutes` or :func:`hours`: a nested :class:`Text` that the
renderer turns into the count with the noun in the form the locale's CLDR plural rule picks
("1 minute", "2 minuty", "5 minut"). A bare number before a fixed noun ("{minutes} minutes")
is what produced "for 1 minutes" and "przez 2 minut".
"""

from __future__ import annotations

from dialogs.i18n import NN_
from dialogs.replies import Text, say_n

# TRANSLATORS: a duration that fills {minutes} in other messages ("valid for {minutes}",
# "try again in {minutes}"). Use the form that fits after "for"/"in" in those messages (pl:
# accusative "minutę / minuty / minut").
MINUTES = NN_("{count} minute", "{count} minutes")
# TRANSLATORS: a duration that fills {hours} in other messages ("the link works for {hours}").
HOURS = NN_("{count} hour", "{count} hours")
# TRANSLATORS: a duration that fills {days} in other messages ("deleted after {days}"). Use the
# form that fits after "after" there (de: dative "Tag / Tagen"; pl: "po upływie": "dnia / dni").
DAYS = NN_("{count} day", "{count} days")


def minutes(count: int) -> Text:
    return say_n(MINUTES, count)


def hours(count: int) -> Text:
    return say_n(HOURS, count)


def days(count: int) -> Text:
    return say_n(DAYS, count)
