"""`onboard run` as deployed: a real process, polling a Bot API server on loopback, stopped
with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_polls_answers_and_stops_cleanly(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        process = await _start(_run_env(api, tmp_path), tmp_path)
        try:
            await api.wait_for_calls("getUpdates", timeout=60)
            api.push(api.command(555, "/start", language_code="kk"))
            replies = await api.wait_for_messages(555, 3, timeout=30)  # intro, notice, EIK
            assert "ЕИК" in replies[-1]["text"] or "EIK" in replies[-1]["text"]
            assert replies[-1]["parse_mode"] == "HTML"
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr
        assert api.token.encode() not in stderr  # the token never reaches the log


def _run_env(api: FakeBotApi, tmp_path: Path) -> dict[str, str]:
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
    return env


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.chaos
async def test_sigterm_mid_long_poll_stops_within_10_s_and_the_next_start_delivers(
    tmp_path: Path,
) -> None:
    """Docker and systemd give 10 s after SIGTERM. The process stops taking updates (the long
    poll is cancelled), leaves what it could not deliver owed, exits 0; the next start
    delivers it."""
    async with FakeBotApi() as api:
        env = _run_env(api, tmp_path)
        first = await _start(env, tmp_path)
        try:
            await api.wait_for_calls("getUpdates", timeout=60)
            for _ in range(500):
                api.fail_next("sendMessage", 502)  # Telegram cannot take the replies now
            api.push(api.command(556, "/start"))
            for _ in range(600):  # tried and refused: owed, not sent
                if api.calls_to("sendMessage"):
                    break
                await asyncio.sleep(0.05)
            assert api.calls_to("sendMessage"), "the bot never tried to reply"
            await api.wait_for_calls("getUpdates", timeout=30)  # a long poll under way
        finally:
            first.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(first.communicate(), 10)  # or the test fails
        assert first.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr
        assert api.sent_messages(556) == []
        api._faults.clear()  # Telegram is back; the bot starts again

        second = await _start(env, tmp_path)
        try:
            replies = await api.wait_for_messages(556, 3, timeout=60)  # intro, notice, EIK
            assert "EIK" in replies[-1]["text"]
        finally:
            second.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(second.communicate(), 10)
        assert second.returncode == 0, stderr.decode()
        assert len(api.sent_messages(556)) == 3  # the /start was applied once, sent once
