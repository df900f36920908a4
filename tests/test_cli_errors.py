"""An operator's mistakes, through the installed ``onboard`` entry point as a subprocess: each
ends in one clear line on stderr naming what is wrong and what is expected, exit code 2 for a
wrong command line or setting and 1 for a failure while running, and never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.fakebotapi import FakeBotApi
from tests.test_run_entry_point import free_port

pytestmark = pytest.mark.cli

ROOT = Path(__file__).resolve().parent.parent
ONBOARD = shutil.which("onboard", path=str(Path(sys.executable).parent)) or "onboard"
FLOW_IDS = "bg-subscription-portal, de-video-consultation, de-video-guest"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "REDIS_", "WEBHOOK_", "PUBLIC_", "TELEGRAM_"))
        and k not in {"PORT", "HOST", "DATABASE_URL", "LOG_LEVEL"}
    }
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env.update(extra)
    return env


def onboard(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ONBOARD, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path, **env),
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == code, (result.returncode, result.stderr, result.stdout)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "code", "words"),
    [
        (["crm", "load", "/nonexistent.yaml"], {}, 2, ["/nonexistent.yaml: no such file"]),
        (["crm", "load", "/"], {}, 2, ["/: not a file"]),
        (
            ["flows", "draw", "bg-subscription-portal", "-o", "/no/such/dir/x.svg"],
            {},
            1,
            ["cannot write /no/such/dir/x.svg", "No such file or directory"],
        ),
        (["flows", "draw", "nope"], {}, 2, ["unknown flow 'nope'", FLOW_IDS]),
        (["run"], {"BOT_TOKEN": "garbage"}, 2, ["BOT_TOKEN must look like 123456789:"]),
        (["flows", "list"], {"PORT": "abc"}, 2, ["PORT must be a whole number, got 'abc'"]),
        (["flows", "list"], {"PORT": "70000"}, 2, ["PORT must be at most 65535, got '70000'"]),
        (
            ["flows", "list"],
            {"PASSWORD_LINK_TTL_MINUTES": "0"},
            2,
            ["PASSWORD_LINK_TTL_MINUTES must be at least 1, got '0'"],
        ),
        (["flows", "list"], {"LOG_LEVEL": "loud"}, 2, ["LOG_LEVEL must be one of DEBUG, INFO"]),
        (
            ["flows", "list"],
            {"TELEGRAM_RATE_LIMITS": "maybe"},
            2,
            ["TELEGRAM_RATE_LIMITS must be true or false"],
        ),
        (["flows", "list"], {"PUBLIC_URL": "example.com"}, 2, ["PUBLIC_URL must be an http://"]),
        (
            ["flows", "list"],
            {"DATABASE_URL": "mysql://admin:hunter2@db/x"},
            2,
            ["DATABASE_URL must be sqlite+aiosqlite:///FILE or postgresql", "admin:***@db"],
        ),
        (
            ["crm", "load", str(ROOT / "demo" / "crm.yaml")],
            {"DATABASE_URL": "postgresql+asyncpg://nobody:hunter2@127.0.0.1:1/x"},
            1,
            ["cannot use the database postgresql+asyncpg://nobody:***@127.0.0.1:1/x"],
        ),
        (
            ["run", "--webhook"],
            {"BOT_TOKEN": "123:abc", "TELEGRAM_API_BASE": "http://127.0.0.1:1"},
            2,
            ["--webhook needs WEBHOOK_URL and WEBHOOK_SECRET"],
        ),
        (["run", "--workers", "0"], {}, 2, ["--workers: must be at least 1, got 0"]),
        (["run", "--workers", "2"], {}, 2, ["--workers needs --webhook"]),
        (["invite", "de-video-consultation", "--days", "0"], {}, 2, ["--days: must be at least 1"]),
        (["invite", "de-video-consultation", "--days", "-3"], {}, 2, ["at least 1, got -3"]),
        (["invite", "de-video-consultation", "--days", "x"], {}, 2, ["a whole number, got 'x'"]),
        (["invite", "nope"], {}, 2, ["no flow 'nope'", FLOW_IDS]),
        (
            ["guest-code", "--session", "S", "--join-url", "https://v.example/1", "--hours", "-5"],
            {},
            2,
            ["--hours: must be at least 1, got -5"],
        ),
        (
            ["guest-code", "--session", " ", "--join-url", "https://v.example/1"],
            {},
            2,
            ["--session: must not be empty"],
        ),
        (
            ["guest-code", "--session", "S", "--join-url", "http://v.example/1"],
            {},
            2,
            ["must start with https://"],
        ),
        (["chat", "--flow", "nope"], {}, 2, ["unknown flow 'nope'", FLOW_IDS]),
        (["chat", "--lang", "xx"], {}, 2, ["invalid choice: 'xx'", "'bg', 'hu', 'kk', 'de', 'pl'"]),
        (["frobnicate"], {}, 2, ["invalid choice: 'frobnicate'"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_mistake_gets_one_clear_line(
    tmp_path: Path, args: list[str], env: dict[str, str], code: int, words: list[str]
) -> None:
    line = assert_one_clear_line(onboard(tmp_path, *args, **env), code, *words)
    assert "hunter2" not in line
    assert "garbage" not in line  # a wrong token is named, never shown


def test_version(tmp_path: Path) -> None:
    result = onboard(tmp_path, "--version")
    assert (result.returncode, result.stdout.strip()) == (0, "onboard 0.1.0")


def test_a_busy_port_stops_the_server(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        line = assert_one_clear_line(onboard(tmp_path, "web", PORT=port), 1)
        assert line.startswith(f"onboard: cannot listen on 127.0.0.1:{port}")
        assert "set PORT" in line
        # onboard run without BOT_TOKEN is the terminal chat: its links would not open either
        run = onboard(tmp_path, "run", PORT=port)
        assert_one_clear_line(
            subprocess.CompletedProcess(run.args, run.returncode, "", run.stderr), 1
        )
        assert f"cannot listen on 127.0.0.1:{port}" in run.stderr


async def test_an_unreachable_bot_api_is_retried_with_backoff_then_stopped_cleanly(
    tmp_path: Path,
) -> None:
    closed = free_port()
    process = await asyncio.create_subprocess_exec(
        ONBOARD,
        "run",
        cwd=tmp_path,
        env=environment(
            tmp_path,
            BOT_TOKEN="123:abc",
            TELEGRAM_API_BASE=f"http://127.0.0.1:{closed}",
            PORT=str(free_port()),
        ),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    tries = []
    try:
        while len(tries) < 2:
            line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
            assert line, "onboard run stopped instead of trying again"
            assert "Traceback" not in line
            tries.append(line)
    finally:
        process.send_signal(signal.SIGINT)
        _, rest = await asyncio.wait_for(process.communicate(), 30)
    assert all(f"cannot reach the Bot API at http://127.0.0.1:{closed}" in t for t in tries)
    assert "trying again in 1 s" in tries[0]
    assert "trying again in 2 s" in tries[1]
    assert "Traceback" not in rest.decode()
    assert process.returncode == 130


async def test_a_token_the_bot_api_refuses_stops_with_exit_2(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        result = await asyncio.to_thread(
            onboard,
            tmp_path,
            "run",
            BOT_TOKEN="999:refused",
            TELEGRAM_API_BASE=api.base_url,
            PORT=str(free_port()),
        )
    line = assert_one_clear_line(result, 2, "BOT_TOKEN was refused by the Bot API")
    assert "refused" not in line.split("BOT_TOKEN")[0]


async def test_a_webhook_body_that_is_not_an_update_gets_400(tmp_path: Path) -> None:
    port = free_port()
    async with FakeBotApi() as api:
        process = await asyncio.create_subprocess_exec(
            ONBOARD,
            "run",
            "--webhook",
            cwd=tmp_path,
            env=environment(
                tmp_path,
                BOT_TOKEN=api.token,
                TELEGRAM_API_BASE=api.base_url,
                PORT=str(port),
                WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
                WEBHOOK_SECRET="s3cret",
            ),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await api.wait_for_calls("setWebhook", timeout=60)
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            async with aiohttp.ClientSession(headers=headers) as http:
                for body in ([{"update_id": 1}], "text", 42, {"no": "update_id"}):
                    async with http.post(url, data=json.dumps(body)) as response:
                        assert response.status == 400, body
                        assert "expected a Telegram Update object" in await response.text()
                async with http.post(url, data="{not json") as response:
                    assert response.status == 400
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert "Traceback" not in stderr.decode()
