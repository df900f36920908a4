"""The de flow as a person tries it from README with the demo data: ``onboard crm load``,
``onboard invite --contract DE-SOLO-01`` (edition from the CRM), then ``onboard chat`` with
``/start <token>``; the password page is opened over HTTP on the pages the chat serves."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.bot.test_bg_flow_telegram import t
from tests.bot.test_de_flow_telegram import text_of
from tests.bot.test_pl_flow_telegram import PASSWORD, plain
from tests.test_cli import ROOT, lines_until, onboard, terminal_chat
from tests.web.test_pages_http import browser, form_csrf, post


async def test_de_flow_walks_in_the_terminal_chat_from_a_cli_invitation(tmp_path: Path) -> None:
    bot = {"BOT_USERNAME": "onboard_demo_bot"}
    loaded = onboard("crm", "load", str(ROOT / "demo" / "crm.yaml"), tmp_path=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    invite = ("invite", "de-video-consultation", "--contract", "DE-SOLO-01")
    printed = onboard(*invite, tmp_path=tmp_path, env=bot)
    assert printed.returncode == 0, printed.stderr
    token = re.findall(r"https://t\.me/onboard_demo_bot\?start=([A-Za-z0-9_-]+)", printed.stdout)[0]
    assert "edition: solo" in printed.stdout

    async with terminal_chat(tmp_path, "--fresh", "--lang", "de", env=bot) as (process, _site):
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
