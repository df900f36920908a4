"""``onboard funnel``: read the step events, print the table or draw the chart."""

from __future__ import annotations

import time
from pathlib import Path

from bot.config import Settings
from bot.ops.funnel import build_funnels, table
from dialogs.errors import ConfigError, OnboardError
from dialogs.flow import FlowRegistry
from storage.db import create_engine, migrate
from storage.funnel import load_events


async def funnel(
    settings: Settings, flow: str | None, since: float, fmt: str, output: Path | None
) -> int:
    registry = FlowRegistry.from_directory()
    if flow is not None and registry.get(flow) is None:
        known = ", ".join(f.id for f in registry)
        raise ConfigError(f"unknown flow {flow!r}: use one of {known}")
    db = create_engine(settings.database_url, settings.pooling)
    try:
        await migrate(db)
        now = time.time()
        events = await load_events(db, since=now - since, flow=flow)
    finally:
        await db.dispose()
    order = {f.id: list(f.steps) for f in registry}
    funnels = build_funnels(
        events, order, now=now, abandoned_after=settings.funnel_abandoned_hours * 3600
    )
    if fmt == "table":
        print(table(funnels), end="")
        return 0
    from bot.ops.funnel_chart import draw  # noqa: PLC0415 - matplotlib only for a chart

    target = output or Path(f"funnel.{fmt}")
    if target.suffix != f".{fmt}":
        target = target.with_suffix(f".{fmt}")
    try:
        draw(funnels, target, period=_period(since))
    except OSError as exc:
        raise OnboardError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}")
    return 0


def _period(seconds: float) -> str:
    for unit, size in (("days", 86_400), ("hours", 3600)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"last {count} {unit[:-1] if count == 1 else unit}"
    return f"last {int(seconds // 60)} minutes"
