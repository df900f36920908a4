"""``onboard run --webhook --workers N``: several processes behind one URL, sharing Redis and
the database. Functional only (speed is the benchmark's business: ``python -m bench``)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest

from bot.app import build_app
from bot.cli import main as cli
from bot.workers import Supervisor, run_workers
from storage.crm_import import load_crm
from tests.conftest import make_settings
from tests.fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
DEMO_CRM = ROOT / "demo" / "crm.yaml"
SECRET = "workers-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until(condition: object, what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 20)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _messages(api: FakeBotApi, user: int, count: int) -> list[str]:
    """The chat's texts once ``count`` arrived, and no more a moment later (none twice)."""
    await _until(lambda: len(api.sent_messages(user)) >= count, f"{count} messages to {user}")
    await asyncio.sleep(0.3)
    texts = [m["text"] for m in api.sent_messages(user)]
    assert len(texts) == count, texts
    return texts


async def _accepting(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


@asynccontextmanager
async def workers(
    tmp_path: Path, redis_url: str, count: int
) -> AsyncIterator[tuple[FakeBotApi, Supervisor]]:
    async with FakeBotApi() as api:
        port = _free_port()
        settings = make_settings(
            tmp_path,
            redis_url=redis_url,
            bot_token=api.token,
            telegram_api_base=api.base_url,
            webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
            webhook_secret=SECRET,
            port=port,
            log_level="WARNING",
        )
        app = await build_app(settings)
        await load_crm(app.db, DEMO_CRM)
        await app.close()
        stop = asyncio.Event()
        seen: list[Supervisor] = []
        task = asyncio.create_task(
            run_workers(settings, count, demo_crm=DEMO_CRM, stop=stop, started=seen.append)
        )
        try:
            await _until(lambda: seen or task.done(), "the workers to start")
            assert not task.done(), task
            for _ in range(1200):
                if await _accepting(port):
                    break
                await asyncio.sleep(0.05)
            yield api, seen[0]
        finally:
            stop.set()
            with suppress(asyncio.CancelledError):
                assert await asyncio.wait_for(task, 60) == 0


async def test_two_workers_share_one_url_and_apply_each_update_once(
    tmp_path: Path, app_redis: str
) -> None:
    async with workers(tmp_path, app_redis, 2) as (api, supervisor):
        assert len(supervisor.processes) == 2
        assert all(p.is_alive() for p in supervisor.processes)
        assert len({p.pid for p in supervisor.processes}) == 2
        assert api.webhook["url"].endswith("/telegram/webhook")  # registered once, by the parent

        users = list(range(9100, 9120))
        starts = [api.command(user, "/start") for user in users]
        assert await asyncio.gather(*(api.deliver(update) for update in starts)) == [200] * 20
        for user in users:  # the webhook answers at the commit; the replies follow
            await _messages(api, user, 3)  # intro, the privacy notice, the EIK question

        # Each customer answers; every answer is delivered twice at once (a webhook retry
        # racing the original, possibly on the other worker): applied once.
        answers = [api.text(user, "175074752") for user in users]
        twice = [api.deliver(update) for update in answers for _ in range(2)]
        assert await asyncio.gather(*twice) == [200] * 40
        for user in users:
            texts = await _messages(api, user, 4)
            assert "e-mail" in texts[-1]


async def test_a_worker_that_dies_is_started_again(tmp_path: Path, app_redis: str) -> None:
    async with workers(tmp_path, app_redis, 2) as (api, supervisor):
        victim = supervisor.processes[0]
        victim.kill()
        victim.join(10)
        await _until(
            lambda: supervisor.processes[0] is not victim and supervisor.processes[0].is_alive(),
            "the worker to be restarted",
        )
        # The other worker may still have been starting when its sibling was killed: wait until
        # someone listens on the shared port again (a restarted worker needs a moment to bind).
        port = int(api.webhook["url"].split(":")[2].split("/")[0])
        for _ in range(1200):
            if await _accepting(port):
                break
            await asyncio.sleep(0.05)
        update = api.command(9200, "/start")
        assert await api.deliver(update) == 200
        await _messages(api, 9200, 3)  # intro, the privacy notice, the EIK question


def test_workers_need_the_webhook(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--workers", "2"]) == 2  # a usage error
    assert "--workers needs --webhook" in capsys.readouterr().err


async def test_workers_need_a_webhook_url_and_secret(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, bot_token="123456:TEST")
    with pytest.raises(Exception, match="WEBHOOK_URL and WEBHOOK_SECRET"):
        await run_workers(settings, 2, demo_crm=DEMO_CRM, stop=asyncio.Event())
