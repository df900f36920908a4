"""Logging for every ``onboard`` process: plain lines or JSON objects, and nothing secret.

``LOG_FORMAT=json`` writes one object per line (``time``, ``level``, ``logger``, ``message``,
and for an update at DEBUG ``update_id``, ``flow``, ``step``, ``outcome``, ``duration``) for a
log collector; ``plain`` (the default) is for people.

What a log line must never hold: a token, a one-time code, a password, an e-mail address, a
phone number, a name or what a customer typed. Our own code logs none of them (a test walks
every flow at DEBUG and looks). Libraries would: python-telegram-bot puts the bot token in
request URLs and echoes updates (with the customer's text) at DEBUG, httpx logs every URL,
so their loggers stay at WARNING whatever ``LOG_LEVEL`` says. And whatever still reaches a
handler — an exception's message, a library's warning — passes :class:`Redactor`, which
replaces the configured secrets, anything shaped like a bot token, an e-mail address, an
international phone number, a URL's password or a link's token (32 or more URL-safe
characters).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dialogs.turn import Mark

QUIET_LIBRARIES = (
    "httpx",
    "httpcore",
    "alembic",
    "fontTools",
    "telegram",
    "aiosqlite",
    "asyncio",
    "aiohttp",
    "redis",
    "sqlalchemy",
    "asyncpg",
    "aiosmtplib",
    "matplotlib",
    "PIL",
    "multipart",
    "urllib3",
)
TURN_FIELDS = ("update_id", "flow", "step", "outcome", "duration")
PATTERNS = (
    (re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}"), "<token>"),  # a bot token (in API URLs too)
    (re.compile(r"://([^:/@\s]*):[^@\s]*@"), r"://\1:***@"),  # a URL's password
    (re.compile(r"(?<![\w-])[A-Za-z0-9_-]{32,}(?![\w-])"), "<token>"),  # a link's token
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"\+\d[\d ()-]{6,}\d"), "<phone>"),
)


class Redactor:
    """Scrubs a formatted line: the configured secrets first, then the shapes above."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class PlainFormatter(logging.Formatter):
    def __init__(self, fmt: str, redact: Redactor) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{k}={getattr(record, k)}" for k in TURN_FIELDS if hasattr(record, k))
        return self.redact(f"{line} {extra}" if extra else line)


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor, process: str = "") -> None:
        super().__init__()
        self.redact = redact
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if self.process:
            entry["process"] = self.process
        for name in TURN_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def turn_fields(
    update_id: int | None, mark: Mark | None, outcome: str, seconds: float
) -> dict[str, Any]:
    """The ``extra`` of the per-update DEBUG line: where the turn left the customer."""
    return {
        "update_id": update_id,
        "flow": mark.flow if mark else None,
        "step": mark.step if mark else None,
        "outcome": outcome,
        "duration": round(seconds, 6),
    }


def configure_logging(
    level: str,
    *,
    quiet: bool = False,
    process: str = "",
    fmt: str = "plain",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    """``quiet``: the terminal chat owns stdout, so only warnings and errors reach stderr.
    ``process`` names a worker in every line (``worker-1``); ``secrets`` are values never to
    print (the bot token, the webhook secret, passwords from the settings)."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(redact, process))
    else:
        prefix = process + " " if process else ""
        handler.setFormatter(
            PlainFormatter(f"%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s", redact)
        )
    logging.basicConfig(
        level=logging.WARNING if quiet else level.upper(), handlers=[handler], force=True
    )
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
