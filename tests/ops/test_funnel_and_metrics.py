"""The counters and the funnel after known walks of the bg flow through the real transport:
``/metrics`` shows them, ``onboard funnel`` reports the numbers of the walks from SQL."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.cli.funnel import funnel
from bot.ops.funnel import StepFunnel, build_funnels
from bot.web.server import web_app_for
from storage.db import create_engine, migrate
from storage.funnel import FunnelEvent, FunnelWriter, load_events
from storage.hot_sql import hot_path
from tests.bot.harness import RunningBot, running_bot
from tests.bot.test_bg_flow_telegram import walk_bg_flow
from tests.conftest import make_settings
from tests.delivery.harness import Clock

pytestmark = pytest.mark.ops

BG = "bg-subscription-portal"
TWO_DAYS = 2 * 86_400


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scrape(bot: RunningBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    web_app = web_app_for(bot.app, bot.transport.push)
    async with TestClient(TestServer(web_app)) as client:
        answer = await client.get("/metrics")
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = await answer.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
async def walked(tmp_path: Path, app_redis: str) -> AsyncIterator[RunningBot]:
    """Alice walks the whole bg flow to the password link (a wrong EIK, e-mail and code on
    the way) and goes silent there; Bob stops at the e-mail; Carol cancels at the EIK. All
    of it two days ago."""
    clock = Clock(time.time() - TWO_DAYS)
    async with running_bot(make_settings(tmp_path, redis_url=app_redis), clock=clock) as bot:
        await walk_bg_flow(bot, "en")
        bob = bot.customer(user_id=5001)
        await bob.send("/start")
        await bob.send("175074752")
        carol = bot.customer(user_id=5002)
        await carol.send("/start")
        await carol.send("/cancel")
        yield bot


async def test_metrics_endpoint_shows_the_walks(walked: RunningBot) -> None:
    before = {
        "entered": value("onboard_step_entered_total", flow=BG, step="eik"),
        "sent": value("onboard_codes_total", channel="email", outcome="sent"),
    }
    bot = walked
    dave = bot.customer(user_id=5003)
    await dave.send("/start")
    await dave.send("12345")
    await dave.send("/human")
    samples = await scrape(bot)

    def scraped(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert scraped("onboard_step_entered_total", flow=BG, step="eik") == before["entered"] + 1
    assert scraped("onboard_step_invalid_total", flow=BG, step="eik") >= 2
    assert scraped("onboard_step_entered_total", flow=BG, step="password") >= 1
    assert scraped("onboard_flow_finished_total", flow=BG, end="cancelled") >= 1
    assert scraped("onboard_codes_total", channel="email", outcome="sent") == before["sent"]
    for outcome in ("sent", "wrong", "right"):
        assert scraped("onboard_codes_total", channel="email", outcome=outcome) >= 1
    assert scraped("onboard_updates_total", kind="text", outcome="applied") >= 8
    assert scraped("onboard_updates_total", kind="command", outcome="applied") >= 4
    assert scraped("onboard_updates_total", kind="button", outcome="applied") >= 1
    assert scraped("onboard_bot_api_calls_total", method="sendMessage", status="200") >= 10
    assert scraped("onboard_bot_api_calls_total", method="getUpdates", status="200") >= 1
    assert scraped("onboard_turn_seconds_count") >= 15
    assert scraped("onboard_human_requests_total", flow=BG, step="eik") >= 1
    assert scraped("onboard_tickets_total", kind="help", event="requested") >= 1
    labels = {v for (_name, pairs) in samples for _k, v in pairs}
    for private in ("demo@example.com", "175074752", "12345", "4242", "5003"):
        assert private not in labels, private


async def test_funnel_numbers_of_the_known_walks(
    walked: RunningBot, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = walked
    assert bot.app.funnel is not None
    await bot.app.funnel.flush()
    events = await load_events(bot.app.db, since=0, flow=BG)
    order = {BG: list(bot.app.flows.get(BG).steps)}  # type: ignore[union-attr]
    (report,) = build_funnels(events, order, now=time.time(), abandoned_after=86_400)
    assert report.customers == 3
    assert report.finished == {"cancelled": 1}
    assert report.steps == [
        StepFunnel("intro", reached=3, moved_on=3),
        StepFunnel("privacy", reached=3, moved_on=3),
        StepFunnel("eik", reached=3, moved_on=2, re_asked=1),
        StepFunnel("email", reached=2, moved_on=1, re_asked=1, abandoned=1),
        StepFunnel("match", reached=1, moved_on=1),
        StepFunnel("no_match", reached=1, moved_on=1),
        StepFunnel("code", reached=1, moved_on=1, re_asked=1),
        StepFunnel("password", reached=1, abandoned=1),
    ]

    # The command reads the same rows; silent for less than FUNNEL_ABANDONED_HOURS is not
    # abandoned, and a period that ends before the walks finds nothing.
    settings = bot.app.settings
    assert await funnel(settings, BG, 7 * 86_400, "table", None) == 0
    table = capsys.readouterr().out
    assert f"{BG}: 3 customers; ended: cancelled 1" in table
    assert re.search(r"\n  email +2 +1 +1 +1\n", table), table
    later = settings.model_copy(update={"funnel_abandoned_hours": 72})
    await funnel(later, BG, 7 * 86_400, "table", None)
    assert re.search(r"\n  email +2 +1 +1 +0\n", capsys.readouterr().out)
    await funnel(settings, None, 86_400, "table", None)
    assert capsys.readouterr().out == "no step events in that period\n"


async def test_funnel_charts(walked: RunningBot, tmp_path: Path) -> None:
    assert walked.app.funnel is not None
    await walked.app.funnel.flush()
    settings = walked.app.settings
    png, svg = tmp_path / "funnel.png", tmp_path / "chart"
    assert await funnel(settings, None, 7 * 86_400, "png", png) == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert await funnel(settings, BG, 7 * 86_400, "svg", svg) == 0
    text = svg.with_suffix(".svg").read_text()
    assert "<svg" in text
    assert "abandoned" in text


async def test_funnel_writer_is_buffered_and_flushes_on_close(tmp_path: Path) -> None:
    """Nothing is written while the update runs; the rows arrive within the interval or at
    close, in SQLite and in PostgreSQL alike."""
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    await migrate(db)
    writer = FunnelWriter(db, interval=60, batch=3)
    writer.add(FunnelEvent(1.0, BG, "eik", "entered", "c1"))
    writer.add(FunnelEvent(2.0, BG, "eik", "invalid", "c1"))
    assert await load_events(db, since=0) == []
    assert writer.pending == 2
    writer.add(FunnelEvent(3.0, BG, "email", "entered", "c1"))  # the batch is full: written
    for _ in range(50):
        if writer.pending == 0:
            break
        await asyncio.sleep(0.02)
    assert len(await load_events(db, since=0)) == 3
    writer.add(FunnelEvent(4.0, BG, "email", "finished", "c1", "cancelled"))
    await writer.close()
    rows = await load_events(db, since=0)
    assert [row.kind for row in rows] == ["entered", "invalid", "entered", "finished"]
    assert rows[-1].outcome == "cancelled"
    await db.dispose()


async def test_funnel_rows_in_postgresql(pg_database: str) -> None:
    db = create_engine(pg_database)
    await migrate(db)
    hot = hot_path(db)  # as the app writes them: asyncpg's executemany
    writer = FunnelWriter(db, hot=hot)
    for step in ("intro", "eik"):
        writer.add(FunnelEvent(10.0, BG, step, "entered", "c9"))
    await writer.close()
    rows = await load_events(db, since=5, flow=BG)
    assert [row.step for row in rows] == ["intro", "eik"]
    await hot.close()
    await db.dispose()


async def test_housekeeping_forgets_old_funnel_events(tmp_path: Path) -> None:
    clock = Clock(time.time())
    settings = make_settings(tmp_path, funnel_retention_days=30)
    async with running_bot(settings, clock=clock) as bot:
        assert bot.app.funnel is not None
        await bot.customer().send("/start")
        await bot.app.funnel.flush()
        clock.now += 31 * 86_400
        await bot.customer(user_id=77).send("/start")
        await bot.app.funnel.flush()
        await bot.app.housekeeping()
        rows = await load_events(bot.app.db, since=0)
        assert {row.at for row in rows} == {clock.now}
