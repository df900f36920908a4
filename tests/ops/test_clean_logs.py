"""No secret and nothing of a customer's in the logs, at DEBUG, the libraries' loggers included.

Every flow is walked through the real transport (python-telegram-bot over HTTP to the fake Bot
API, httpx, aiohttp, Redis, SQL, SMTP and the SMS gateway on loopback) by the flow tests' own
walks, with ``LOG_LEVEL=DEBUG LOG_FORMAT=json`` configured as ``onboard`` configures it. What
must never show up is gathered while they run: the bot token, every one-time code and link
token generated, the passwords the walks type on the pages, every e-mail address, phone
number and name of the CRM, and everything the customers typed.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from bot.ops.logs import configure_logging
from tests.bot import harness
from tests.bot import test_bg_flow_telegram as bg
from tests.bot import test_de_flow_telegram as de
from tests.bot import test_hu_flow_telegram as hu
from tests.bot import test_kk_flow_telegram as kk
from tests.bot import test_pl_flow_telegram as pl
from tests.fakebotapi import FakeBotApi
from tests.support import test_tickets_group as tickets

pytestmark = pytest.mark.ops

TOKEN = "7351286403:AAHk9Qd2xLmV4pRz8sTnW1cY6bJfE3uGoXi"
CRM = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"
PERSONAL_KEYS = {"name", "emails", "email", "phones", "phone"}


class Secrets:
    """What the walks generate or type, to look for in the log afterwards."""

    def __init__(self) -> None:
        self.values: set[str] = {TOKEN, de.PASSWORD, pl.PASSWORD}
        self.typed: set[str] = set()

    def forbidden(self) -> set[str]:
        typed = {text for text in self.typed if len(text) >= 6 and not text.startswith("/")}
        return {value for value in self.values | typed | crm_personal_data() if len(value) >= 6}


def crm_personal_data() -> set[str]:
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, str(name))
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str) and key in PERSONAL_KEYS:
            found.add(node)

    walk(yaml.safe_load(CRM.read_text(encoding="utf-8")))
    return found


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> Secrets:
    """Record generated codes and tokens and typed texts; the Bot API gets a real-looking token."""
    seen = Secrets()
    randbelow, token_urlsafe = secrets.randbelow, secrets.token_urlsafe

    def recording_randbelow(n: int) -> int:
        value = randbelow(n)
        width = len(str(n - 1))
        if width >= 6:
            seen.values.add(f"{value:0{width}d}")
        return value

    def recording_token(nbytes: int | None = None) -> str:
        value = token_urlsafe(nbytes)
        seen.values.add(value)
        return value

    monkeypatch.setattr(secrets, "randbelow", recording_randbelow)
    monkeypatch.setattr(secrets, "token_urlsafe", recording_token)

    class WatchedApi(FakeBotApi):
        def __init__(self, token: str = TOKEN, **options: Any) -> None:
            super().__init__(TOKEN, **options)

        def text(self, user_id: int, text: str, **options: Any) -> dict[str, Any]:
            seen.typed.add(text)
            return super().text(user_id, text, **options)

    monkeypatch.setattr(harness, "FakeBotApi", WatchedApi)
    return seen


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """``LOG_LEVEL=DEBUG LOG_FORMAT=json`` as ``onboard`` sets it up, into a buffer."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("DEBUG", fmt="json", secrets=[TOKEN], stream=buffer)
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)


def _appears(value: str, text: str) -> bool:
    """``value`` as a whole (a code inside a longer update id is no leak), case-blind (an
    e-mail is one whatever its case)."""
    pattern = rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])"
    return re.search(pattern, text, re.IGNORECASE) is not None


async def _fresh(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


async def test_every_flow_at_debug_leaves_nothing_secret_in_the_logs(
    tmp_path: Path, app_redis: str, watched: Secrets, debug_log: io.StringIO
) -> None:
    walks: list[tuple[str, Callable[[Path], Awaitable[None]]]] = [
        ("bg", lambda d: bg.test_bg_flow_in_every_locale_on_redis(d, app_redis, "bg")),
        ("hu", lambda d: hu.test_hu_registration_on_redis(d, app_redis, "hu")),
        ("kk", lambda d: kk.test_kk_typed_number_gets_an_sms_code(d, "kk")),
        ("de", lambda d: de.test_practice_edition_with_sms_two_factor(d, app_redis, "de")),
        (
            "de-guest",
            lambda d: de.test_guests_join_with_an_access_code_and_get_no_account(
                d, app_redis, "de"
            ),
        ),
        (
            "pl",
            lambda d: pl.test_pl_flow_registration_link_password_and_licence_key(
                d, app_redis, "pl"
            ),
        ),
        (
            "tickets",
            lambda d: tickets.test_human_from_inside_a_flow_opens_a_help_ticket(d, app_redis),
        ),
    ]
    for name, walk in walks:
        directory = tmp_path / name
        directory.mkdir()
        await _fresh(app_redis)
        await walk(directory)

    # The agents' group got the help ticket: counted by the support desk.
    opened = REGISTRY.get_sample_value("onboard_tickets_total", {"kind": "help", "event": "opened"})
    assert (opened or 0) >= 1

    lines = debug_log.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    turns = [entry for entry in entries if entry["logger"] == "onboard.turns"]
    assert len(turns) > 50, "one DEBUG line per update"
    assert {"update_id", "flow", "step", "outcome", "duration"} <= set(turns[0])
    assert {entry["flow"] for entry in turns} >= {
        "bg-subscription-portal",
        "hu-insurance-portal",
        "kk-insurance-cabinet",
        "de-video-consultation",
        "pl-support-contracts",
    }
    text = debug_log.getvalue()
    forbidden = watched.forbidden()
    assert len(forbidden) > 40, "the walks generated codes and tokens and typed their answers"
    leaked = sorted(value for value in forbidden if _appears(value, text))
    assert leaked == [], f"in the DEBUG log: {leaked}"
