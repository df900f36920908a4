"""The Telegram transport: the only package that knows python-telegram-bot."""

import os

# Opt in to python-telegram-bot 22's future behaviour (durations as ``timedelta``), read when
# the library builds e.g. ``RetryAfter``; without it every 429 also raises a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
