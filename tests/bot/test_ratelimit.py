"""The outgoing limiter's arithmetic, on a virtual clock (the end-to-end burst through the
transport and the loopback Bot API is in tests/support)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.channels.telegram.ratelimit import OutgoingLimiter, TelegramLimits, outgoing_limiter
from bot.channels.telegram.shared_pacing import SharedPacer
from bot.config import load_settings
from dialogs.errors import ConfigError
from tests.conftest import make_settings


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send_times(limiter: OutgoingLimiter, clock: VirtualClock, chats: list[int]) -> list[float]:
    """When each message would leave if all were queued at the same instant."""
    return [clock.now + limiter.reserve(chat) for chat in chats]


def test_a_private_chat_gets_a_short_burst_then_one_per_second() -> None:
    clock = VirtualClock()
    limiter = OutgoingLimiter(TelegramLimits(chat_rate=1, chat_burst=3), clock=clock)
    times = send_times(limiter, clock, [7] * 6)
    assert [t - 1000 for t in times] == pytest.approx([0, 0, 0, 1, 2, 3])


def test_a_group_gets_twenty_a_minute_and_a_burst_of_one_hundred_is_spread_not_dropped() -> None:
    clock = VirtualClock()
    limiter = OutgoingLimiter(TelegramLimits(group_slack=0), clock=clock)
    times = send_times(limiter, clock, [-100123] * 100)
    assert len(times) == 100
    assert times == sorted(times)  # order kept
    for start in times:  # no 60-second window holds more than 20 messages
        assert sum(start <= t < start + 60 for t in times) <= 20
    assert times[-1] - times[0] == pytest.approx(80 * 3)


async def test_the_bot_wide_limit_spans_chats_and_keeps_each_chats_order() -> None:
    clock = VirtualClock()
    sent: list[tuple[float, int, int]] = []

    async def sleep(seconds: float) -> None:  # virtual time: wake in order of due time
        due = clock.now + seconds
        while clock.now < due:
            await asyncio.sleep(0)
            clock.now = min(due, clock.now + 0.001)

    limiter = OutgoingLimiter(clock=clock, sleep=sleep)

    async def send(chat: int, n: int) -> None:
        await limiter.wait(chat)
        sent.append((clock.now, chat, n))

    await asyncio.gather(*(send(chat, n) for n in range(4) for chat in range(1, 31)))
    assert len(sent) == 120
    times = sorted(t for t, _, _ in sent)
    for start in times:
        assert sum(start <= t < start + 1 for t in times) <= 31
    for chat in range(1, 31):
        assert [n for _, c, n in sent if c == chat] == [0, 1, 2, 3]


def test_a_429_holds_that_chat_and_the_queue_behind_it() -> None:
    clock = VirtualClock()
    limiter = OutgoingLimiter(clock=clock)
    assert limiter.reserve(7) == 0
    limiter.retry_after(7, 5)
    assert limiter.reserve(7) == pytest.approx(5)
    assert limiter.reserve(8) == 0  # other chats go on


def test_idle_chats_are_forgotten() -> None:
    clock = VirtualClock()
    limiter = OutgoingLimiter(clock=clock, idle_after=60)
    for chat in range(1, 101):
        limiter.reserve(chat)
    clock.now += 120
    limiter.reserve(1)
    assert set(limiter.chats) == {1}


async def test_wait_sleeps_for_the_booked_delay() -> None:
    clock = VirtualClock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    limiter = OutgoingLimiter(TelegramLimits(chat_burst=1), clock=clock, sleep=sleep)
    await limiter.wait(7)
    await limiter.wait(7)
    assert slept == [pytest.approx(1.0)]


def test_each_of_n_workers_takes_a_share_of_the_bot_wide_rate() -> None:
    assert TelegramLimits().per_worker(3).bot_rate == pytest.approx(10)
    assert TelegramLimits().per_worker(3).group_limit == 20


async def test_the_settings_choose_the_pacing(tmp_path: Path) -> None:
    token = "123456:ABCdef"
    alone = outgoing_limiter(make_settings(tmp_path, bot_token=token), workers=2)
    assert isinstance(alone, OutgoingLimiter)
    assert alone.limits.bot_rate == pytest.approx(15)  # this process's share
    tuned = make_settings(
        tmp_path,
        bot_token=token,
        redis_url="redis://127.0.0.1:6379/0",
        telegram_chat_rate=2.5,
        telegram_group_limit=10,
        telegram_group_window_seconds=30,
        telegram_bot_rate=12,
    )
    shared = outgoing_limiter(tuned, workers=2)
    assert isinstance(shared, SharedPacer)  # in Redis: all workers share the whole rate
    assert (shared.limits.chat_rate, shared.limits.group_limit) == (2.5, 10)
    assert shared.limits.group_period == 30
    assert shared.limits.bot_rate == pytest.approx(12)
    await shared.close()
    off = make_settings(tmp_path, bot_token=token, telegram_rate_limits=False)
    assert outgoing_limiter(off) is None


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("TELEGRAM_CHAT_RATE", "0", "TELEGRAM_CHAT_RATE must be at least 0.01, got '0'"),
        ("TELEGRAM_CHAT_RATE", "fast", "TELEGRAM_CHAT_RATE must be a number, got 'fast'"),
        ("TELEGRAM_GROUP_LIMIT", "0", "TELEGRAM_GROUP_LIMIT must be at least 1, got '0'"),
        (
            "TELEGRAM_GROUP_WINDOW_SECONDS",
            "0.5",
            "TELEGRAM_GROUP_WINDOW_SECONDS must be at least 1, got '0.5'",
        ),
        ("TELEGRAM_BOT_RATE", "5000", "TELEGRAM_BOT_RATE must be at most 1000, got '5000'"),
    ],
)
def test_a_wrong_pace_setting_gets_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None)
    assert str(raised.value) == line
