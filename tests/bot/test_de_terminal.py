"""The de flow as a person tries it from README with the demo data: ``onboard crm load``,
``onboard invite --contract DE-SOLO-01`` (edition from the CRM), then ``onboard chat`` with
``/start <token>``; the password page is opened over HTTP on the pages the chat serves."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from tests.bot.test_bg_flow_telegram import t
from tests.bot.test_de_flow_telegram import text_of
from tests.bot.test_pl_flow_telegram import PASSWORD, lines_until, plain
from tests.delivery.servers import free_port
from tests.test_cli import ROOT, environment
from tests.web.test_pages_http import browser, form_csrf, post


def cli(*args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=True,
    )
    return done.stdout


async def test_de_flow_walks_in_the_terminal_chat_from_a_cli_invitation(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **environment(tmp_path),
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BOT_USERNAME": "onboard_demo_bot",
    }
    cli("crm", "load", str(ROOT / "demo" / "crm.yaml"), env=env, cwd=tmp_path)
    printed = cli(
        "invite", "de-video-consultation", "--contract", "DE-SOLO-01", env=env, cwd=tmp_path
    )
    token = re.findall(r"https://t\.me/onboard_demo_bot\?start=([A-Za-z0-9_-]+)", printed)[0]
    assert "edition: solo" in printed

    command = ["-m", "bot.cli", "chat", "--fresh", "--lang", "de"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(f"/start {token}\ndr.solo\n".encode())
        await lines_until(process.stdout, re.escape(plain(t(text_of("visibility"), "de"))))
        process.stdin.write(b"1\n")  # the numbered button "Be visible"
        seen = await lines_until(process.stdout, r"→ http://\S+/password/\S+")
        password = re.findall(r"→ (http://\S+/password/\S+)", "".join(seen))[-1]
        async with browser() as session:
            csrf = await form_csrf(session, password)
            form = {"password": PASSWORD, "confirm": PASSWORD, "csrf": csrf}
            assert (await post(session, password, **form))[0] == 200
        await lines_until(process.stdout, re.escape(plain(t(text_of("finished"), "de"))))
    finally:
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), 30) == 0
