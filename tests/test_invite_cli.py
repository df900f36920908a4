"""``onboard invite`` and ``onboard guest-code`` as the provider's team uses them: through the
CLI entry, into the database the bot reads; the printed deep link then opens the de flow."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.steps.privacy import notice as notice_of
from storage.db import create_engine
from storage.models import GuestCodeRow, InvitationRow
from tests.bot.harness import running_bot
from tests.bot.test_de_flow_telegram import FLOW, locales_for_all_flows, text_of
from tests.conftest import make_settings
from tests.notice import PRIVACY_URL, RETAIN_DAYS

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"^https://t\.me/onboard_test_bot\?start=([A-Za-z0-9_-]{32})$")


def onboard(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "REDIS_URL"}}
    environment.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'onboard.db'}",
        PYTHONPATH=str(ROOT),
        BOT_USERNAME="@onboard_test_bot",
    )
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )


async def invitation_rows(tmp_path: Path) -> list[InvitationRow]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'onboard.db'}")
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(select(InvitationRow))).all())  # type: ignore[arg-type]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("path", [["invite"], ["guest-code"]], ids=" ".join)
def test_help(tmp_path: Path, path: list[str]) -> None:
    result = onboard(tmp_path, *path, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: onboard" in result.stdout


async def test_invite_prints_the_deep_link_and_stores_only_the_hash(tmp_path: Path) -> None:
    before = time.time()
    result = onboard(tmp_path, "invite", FLOW.id, "--edition", "solo", "--days", "3")
    assert result.returncode == 0, result.stderr
    match = LINK.match(result.stdout.splitlines()[0])
    assert match is not None, result.stdout
    token = match.group(1)
    (row,) = await invitation_rows(tmp_path)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (row.flow, row.edition, row.locale, row.customer_id) == (FLOW.id, "solo", "de", None)
    assert before + 3 * 86_400 - 5 < row.expires_at < time.time() + 3 * 86_400 + 5
    assert token.encode() not in (tmp_path / "onboard.db").read_bytes()


async def test_invite_for_a_crm_customer_in_english_with_the_default_lifetime(
    tmp_path: Path,
) -> None:
    loaded = onboard(tmp_path, "crm", "load", str(ROOT / "demo" / "crm.yaml"))
    assert loaded.returncode == 0, loaded.stdout
    result = onboard(
        tmp_path, "invite", FLOW.id, "--customer", "pl_nip:856-734-62-15", "--locale", "en"
    )
    assert result.returncode == 0, result.stderr
    (row,) = await invitation_rows(tmp_path)
    assert row.customer_id is not None
    assert row.locale == "en"
    assert 14 * 86_400 - 5 < row.expires_at - row.created_at < 14 * 86_400 + 5


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([FLOW.id, "--edition", "gold"], {}, "has no edition 'gold' (editions: practice, solo)"),
        (["bg-subscription-portal"], {}, "has no invitation step"),
        (["no-such-flow"], {}, "no flow 'no-such-flow'"),
        ([FLOW.id, "--customer", "pl_nip:1234563218"], {}, "no CRM customer"),
        ([FLOW.id, "--contract", "X999999"], {}, "no CRM contract 'X999999'"),
        ([FLOW.id, "--locale", "fr"], {}, "invalid choice: 'fr'"),
    ],
)
def test_invite_refuses_what_it_cannot_issue(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = onboard(tmp_path, "invite", *args, **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_the_printed_link_opens_the_flow_in_the_bot(tmp_path: Path, app_redis: str) -> None:
    result = onboard(tmp_path, "invite", FLOW.id, "--edition", "solo", "--locale", "en")
    match = LINK.match(result.stdout.splitlines()[0])
    assert match is not None, result.stderr
    locales = locales_for_all_flows(tmp_path)
    catalogs = Catalogs(locales)
    async with running_bot(
        make_settings(tmp_path, redis_url=app_redis), locales_dir=locales
    ) as bot:
        alice = bot.customer(language_code="de")  # the invitation's language counts
        prompt = catalogs.gettext(text_of("username"), "en").format(min=4, max=30)
        notice = render(notice_of(PRIVACY_URL, RETAIN_DAYS), catalogs, "en")
        assert await alice.send(f"/start {match.group(1)}") == [notice, prompt]


async def test_guest_code_is_printed_once_and_stored_hashed(tmp_path: Path) -> None:
    result = onboard(
        tmp_path,
        "guest-code",
        "--session",
        "Dr. Weber, 10:30",
        "--join-url",
        "https://video.example.com/room/42",
        "--hours",
        "2",
    )
    assert result.returncode == 0, result.stderr
    code = result.stdout.splitlines()[0]
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'onboard.db'}")
    try:
        async with engine.connect() as connection:
            (row,) = (await connection.execute(select(GuestCodeRow))).all()
    finally:
        await engine.dispose()
    assert row.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert row.expires_at - row.created_at == 7200
    refused = onboard(tmp_path, "guest-code", "--session", "x", "--join-url", "http://plain")
    assert refused.returncode == 2
    assert "https://" in refused.stderr
