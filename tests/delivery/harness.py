"""The bot as in production — real delivery (SMTP / HTTP SMS gateway), the courier, the cap per
address — against the fake Bot API, with a movable clock and a short retry schedule."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from dialogs.flow import load_flow
from dialogs.i18n import DEFAULT_LOCALES_DIR
from tests.bot.harness import RunningBot, running_bot


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def locales_with(tmp_path: Path, flows_dir: Path) -> Path:
    """The real catalogs, with the test flows' texts added to the template (the loader checks
    flow texts against it; the lead extracts the real ones)."""
    target = tmp_path / "locales"
    shutil.copytree(DEFAULT_LOCALES_DIR, target)
    texts: set[str] = set()
    for path in flows_dir.glob("*.yaml"):
        texts |= load_flow(path).messages()
    entries = "".join(f'\nmsgid "{text}"\nmsgstr ""\n' for text in sorted(texts))
    with (target / "messages.pot").open("a", encoding="utf-8") as pot:
        pot.write(entries)
    return target


@asynccontextmanager
async def delivering_bot(
    settings: Settings, clock: Clock, *, flows_dir: Path | None = None, tmp_path: Path | None = None
) -> AsyncIterator[RunningBot]:
    """:func:`running_bot` with real delivery, a short retry schedule and test flows."""
    extra: dict[str, Any] = {}
    if flows_dir is not None and tmp_path is not None:
        extra = {"flows_dir": flows_dir, "locales_dir": locales_with(tmp_path, flows_dir)}
    async with running_bot(
        settings, clock=clock, real_delivery=True, retry_delays=(0.01, 0.01), **extra
    ) as bot:
        yield bot
