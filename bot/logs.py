"""Logging for every ``onboard`` process: one format, and the libraries kept quiet.

Libraries log what we must not (python-telegram-bot puts the bot token in request URLs at
DEBUG) or what nobody needs (fontTools explains every font subset of a PIN PDF at INFO), so
their loggers stay at WARNING whatever ``LOG_LEVEL`` says.
"""

from __future__ import annotations

import logging
import sys

QUIET_LIBRARIES = ("httpx", "httpcore", "alembic", "fontTools", "telegram", "aiosqlite", "asyncio")


def configure_logging(level: str, *, quiet: bool = False, process: str = "") -> None:
    """``quiet``: the terminal chat owns stdout, so only warnings and errors reach stderr.
    ``process`` names a worker in every line (``worker-1``)."""
    logging.basicConfig(
        level=logging.WARNING if quiet else level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {process + ' ' if process else ''}%(name)s: %(message)s",
        force=True,
    )
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
