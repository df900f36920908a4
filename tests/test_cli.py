"""The ``onboard`` command as a person uses it: help everywhere, the terminal chat with piped
input, the CRM import's report, the flow listing."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.delivery.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
HELP_PATHS = [
    [],
    ["run"],
    ["chat"],
    ["crm"],
    ["crm", "load"],
    ["flows"],
    ["flows", "list"],
    ["flows", "check"],
    ["locales"],
    ["locales", "extract"],
    ["locales", "update"],
    ["locales", "compile"],
]


def onboard(
    *args: str, tmp_path: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environment(tmp_path), **(env or {})},
        timeout=120,
        check=False,
    )


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env["PYTHONPATH"] = str(ROOT)
    return env


@asynccontextmanager
async def terminal_chat(
    tmp_path: Path, *chat_args: str, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """``onboard chat <chat_args>`` in a subprocess as a person runs it, its pages on a free
    port; yields the process and the pages' base URL."""
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli.main", "chat", *chat_args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env={**environment(tmp_path), "PORT": str(port), "PUBLIC_URL": site, **(env or {})},
    )
    try:
        yield process, site
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.parametrize("path", HELP_PATHS, ids=lambda p: " ".join(p) or "onboard")
def test_every_command_has_help(tmp_path: Path, path: list[str]) -> None:
    result = onboard(*path, "--help", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: onboard" in result.stdout


def test_crm_load_reports_bad_rows_by_line_and_loads_the_rest(tmp_path: Path) -> None:
    crm = tmp_path / "crm.yaml"
    crm.write_text(
        "customers:\n"
        "  - {tax_id: '175074752', scheme: bg_eik, name: Good, emails: [a@example.com]}\n"
        "  - {tax_id: '175074753', scheme: bg_eik, name: Bad checksum}\n"
        "  - {tax_id: '121005553', scheme: bg_eik, emails: [b@example.com]}\n",
        encoding="utf-8",
    )
    result = onboard("crm", "load", str(crm), tmp_path=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{crm}:3: ")
    assert "check digit" in lines[0]
    assert lines[1].startswith(f"{crm}:4: ")
    assert "name" in lines[1]
    assert lines[-1] == f"{crm}: 1 loaded, 2 rejected"


def test_flows_list_and_check(tmp_path: Path) -> None:
    listed = onboard("flows", "list", tmp_path=tmp_path)
    assert listed.returncode == 0
    ids = [line.split("\t")[:2] for line in listed.stdout.splitlines()]
    assert ids == [
        ["bg-subscription-portal", "bg"],
        ["de-video-consultation", "de"],
        ["de-video-guest", "de"],
        ["hu-insurance-portal", "hu"],
        ["kk-insurance-cabinet", "kk"],
        ["pl-support-contracts", "pl"],
        ["support-ticket", "en"],
    ]
    checked = onboard("flows", "check", tmp_path=tmp_path)
    assert (checked.returncode, checked.stdout.strip()) == (0, "7 flows OK")


def test_run_without_a_token_opens_the_terminal_chat_on_demo_data(tmp_path: Path) -> None:
    result = onboard("run", tmp_path=tmp_path, stdin="175074752\nnobody@example.com\n")
    assert result.returncode == 0, result.stderr
    assert "terminal chat on the demo CRM" in result.stdout
    assert "02 42 48 948" in result.stdout  # the demo CRM is loaded: a real mismatch answer
    assert "[1] Enter the details again" in result.stdout
    assert "Traceback" not in result.stderr


async def test_terminal_chat_walks_the_bg_flow_to_the_password_link(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "chat",
        "--demo",
        "--fresh",
        "--lang",
        "de",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=environment(tmp_path),
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(b"175074752\ndemo@example.com\n")
    await lines_until(process.stdout, r"\[development email to demo@example\.com\] Subject: ")
    code = await read_until(process.stdout, re.compile(r"^    .*?\b(\d{6})\b"))
    process.stdin.write(f"{code}\n".encode())
    await process.stdin.drain()
    link = await read_until(process.stdout, re.compile(r"\[1\] .* → (http\S+/password/\S+)"))
    process.stdin.close()
    assert await asyncio.wait_for(process.wait(), 30) == 0
    assert link.startswith("http://127.0.0.1:8080/password/")


async def lines_until(stream: asyncio.StreamReader, pattern: str | re.Pattern[str]) -> list[str]:
    """The lines a subprocess prints, up to and including the first that matches."""
    seen: list[str] = []
    while True:
        line = (await asyncio.wait_for(stream.readline(), 60)).decode()
        seen.append(line)
        assert line, "".join(seen)
        if re.search(pattern, line):
            return seen


async def read_until(stream: asyncio.StreamReader, pattern: re.Pattern[str]) -> str:
    """Group 1 of the first printed line that matches."""
    match = pattern.search((await lines_until(stream, pattern))[-1])
    assert match is not None
    return match.group(1)
