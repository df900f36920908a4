"""`onboard run` as deployed: a real process, polling a Bot API server on loopback, stopped
with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_polls_answers_and_stops_cleanly(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            {
                "BOT_TOKEN": api.token,
                "TELEGRAM_API_BASE": api.base_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
                "PORT": str(free_port()),
                "PYTHONPATH": str(ROOT),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await api.wait_for_calls("getUpdates", timeout=60)
            api.push(api.command(555, "/start", language_code="kk"))
            replies = await api.wait_for_messages(555, 2, timeout=30)
            assert "ЕИК" in replies[-1]["text"] or "EIK" in replies[-1]["text"]
            assert replies[-1]["parse_mode"] == "HTML"
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr
        assert api.token.encode() not in stderr  # the token never reaches the log
