"""``onboard run`` as deployed, against the Bot API server on loopback: the command menu and
descriptions set at start in every language, ``/metrics`` moving after a walk, ``/readyz``,
JSON logs; and under ``--workers 2`` one scrape that adds up both workers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.channels.telegram.menu import COMMANDS, DESCRIPTION, SHORT_DESCRIPTION
from dialogs.i18n import SUPPORTED_LOCALES, Catalogs
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi_profile import DEFAULT_SCOPE
from tests.perf.test_workers import workers
from tests.test_run_entry_point import free_port

pytestmark = pytest.mark.ops
ROOT = Path(__file__).resolve().parents[2]
CATALOGS = Catalogs()
BG = "bg-subscription-portal"


async def metric(port: int, name: str, **labels: str) -> float:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        assert answer.status == 200
        text = await answer.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as answer,
    ):
        return answer.status, await answer.text()


def check_profile(api: FakeBotApi) -> None:
    scope = json.dumps(DEFAULT_SCOPE, sort_keys=True)
    for locale in SUPPORTED_LOCALES:
        language = "" if locale == "en" else locale
        commands = api.profile.commands[(scope, language)]
        assert [c["command"] for c in commands] == [name for name, _ in COMMANDS]
        assert [c["description"] for c in commands] == [
            CATALOGS.gettext(text, locale) for _, text in COMMANDS
        ]
        assert api.profile.descriptions[language] == CATALOGS.gettext(DESCRIPTION, locale)
        short = CATALOGS.gettext(SHORT_DESCRIPTION, locale)
        assert api.profile.short_descriptions[language] == short
    assert api.profile.commands[(scope, "pl")][-1]["description"] == "Co potrafi ten czat"
    assert api.profile.descriptions["de"] != api.profile.descriptions[""]


async def test_onboard_run_sets_the_menu_and_serves_metrics_and_readiness(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token="7351286403:AAHk9Qd2xLmV4pRz8sTnW1cY6bJfE3uGoXi") as api:
        port = free_port()
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")
        }
        env.update(
            {
                "BOT_TOKEN": api.token,
                "TELEGRAM_API_BASE": api.base_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
                "PORT": str(port),
                "PYTHONPATH": str(ROOT),
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "DEBUG",
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli.main",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await api.wait_for_calls("getUpdates", timeout=60)
            check_profile(api)
            assert await get(port, "/healthz") == (200, '{"ok": true}')
            assert await get(port, "/readyz") == (200, '{"ok": true}')
            entered = await metric(port, "onboard_step_entered_total", flow=BG, step="eik")
            api.push(api.command(555, "/start", language_code="bg"))
            await api.wait_for_messages(555, 2, timeout=30)
            api.push(api.text(555, "12345", language_code="bg"))
            await api.wait_for_messages(555, 1, timeout=30)
            assert await metric(port, "onboard_step_entered_total", flow=BG, step="eik") == (
                entered + 1
            )
            assert await metric(port, "onboard_step_invalid_total", flow=BG, step="eik") == 1
            assert await metric(port, "onboard_updates_total", outcome="applied") == 2
            sent = await metric(port, "onboard_bot_api_calls_total", method="sendMessage")
            assert sent == 3
            assert await metric(port, "onboard_bot_api_calls_total", method="setMyCommands") == 6
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        lines = [json.loads(line) for line in stderr.decode().splitlines()]
        turns = [line for line in lines if line["logger"] == "onboard.turns"]
        assert [(t["flow"], t["step"], t["outcome"]) for t in turns] == [
            (BG, "eik", "applied"),
            (BG, "eik", "applied"),
        ]
        assert api.token.encode() not in stderr
        assert b"12345" not in stderr


async def test_one_scrape_adds_up_every_worker(tmp_path: Path, app_redis: str) -> None:
    async with workers(tmp_path, app_redis, 2) as (api, supervisor):
        port = int(api.webhook["url"].split(":")[2].split("/")[0])
        users = list(range(9300, 9330))
        starts = [api.command(user, "/start") for user in users]
        assert await asyncio.gather(*(api.deliver(update) for update in starts)) == [200] * 30
        # SO_REUSEPORT spreads the updates; whichever worker answers the scrape counts all.
        for _ in range(4):
            assert await metric(port, "onboard_step_entered_total", flow=BG, step="eik") == 30
        assert await metric(port, "onboard_updates_total", kind="command") == 30
        files = {path.name for path in supervisor.metrics_dir.iterdir()}
        pids = {str(process.pid) for process in supervisor.processes}
        assert {name.rsplit("_", 1)[-1].removesuffix(".db") for name in files} >= pids
