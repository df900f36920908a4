"""Counters fed outside the engine: the outgoing limiter's waits; the log redactor's shapes."""

from __future__ import annotations

import io
import json
import logging

import pytest
from prometheus_client import REGISTRY

from bot.channels.telegram.ratelimit import OutgoingLimiter, TelegramLimits
from bot.ops.logs import Redactor, configure_logging

pytestmark = pytest.mark.ops


def waited(reason: str) -> float:
    return REGISTRY.get_sample_value("onboard_bot_api_wait_seconds_sum", {"reason": reason}) or 0


async def test_pacing_and_retry_after_waits_are_observed() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = OutgoingLimiter(TelegramLimits(chat_burst=1), clock=lambda: now[0], sleep=sleep)
    pacing, retry = waited("pacing"), waited("retry_after")
    await limiter.wait(42)
    await limiter.wait(42)  # one a second in a private chat: the second one waits
    assert waited("pacing") == pytest.approx(pacing + sum(slept))
    assert sum(slept) > 0.9
    limiter.retry_after(42, 3.0)
    assert waited("retry_after") == retry + 3.0


def test_the_redactor_scrubs_what_libraries_might_say() -> None:
    redact = Redactor(["s3cret-webhook-value"])
    line = redact(
        "POST https://api.telegram.org/bot7351286403:AAHk9Qd2xLmV4pRz8sTnW1cY6bJfE3uGoXi/getMe"
        " for Demo@Example.com, +359 88 123 4567, secret s3cret-webhook-value,"
        " postgresql://onboard:hunter2@db/onboard,"
        " https://x.example/password/Zk3Qx9_aV2bP7mN4cR8tY1wE6uI0oL5sD-fG"
    )
    for leaked in ("AAHk9Qd2", "Demo@Example.com", "88 123", "s3cret", "hunter2", "Zk3Qx9"):
        assert leaked not in line, leaked
    assert "<token>" in line
    assert "<email>" in line


def test_json_lines_and_quiet_libraries() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    try:
        configure_logging("DEBUG", fmt="json", process="worker-1", stream=buffer)
        logging.getLogger("telegram.ext").debug("getUpdates with the customer's text")
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot1:x")
        logging.getLogger("onboard.turns").debug(
            "turn", extra={"update_id": 7, "flow": "f", "step": "s", "outcome": "applied"}
        )
        logging.getLogger("bot.app").warning("e-mail to a@b.example failed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["onboard.turns", "bot.app"]
    assert lines[0]["update_id"] == 7
    assert lines[0]["process"] == "worker-1"
    assert lines[1]["message"] == "e-mail to <email> failed"
