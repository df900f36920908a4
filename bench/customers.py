"""The simulated customers: who they are (a generated CRM), what they type, and the driver
that keeps ``in_flight`` of them talking at once and times every update."""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.botapi import callback_update, text_update
from dialogs.ports import Outgoing
from dialogs.taxids import normalise_bg_eik

FIRST_USER_ID = 500_000_000
# What one customer sends: /start, a wrong EIK, the EIK, the e-mail, "Send a new code"
# (too early: a wait notice), the PIN -> the password hand-off link.
UPDATES_PER_CUSTOMER = 6

_UPDATE_IDS = itertools.count(1)
"""Shared by every run in the process, as a bot's update ids never repeat: the store is flushed
between runs, but the process remembers which ids it committed (storage/recent.py), so an id
met again would be a redelivery."""

Deliver = Callable[[dict[str, Any]], Awaitable[list[dict[str, Any]]]]
Pin = Callable[[str], Awaitable[str]]
"""The code sent to an address, once it has arrived."""


class WalkError(AssertionError):
    """A customer did not get the reply the flow promises."""


def valid_eik(number: int) -> str:
    """A valid 9-digit EIK starting with the 8 digits of ``number`` (the check digit found by
    trying)."""
    base = f"{number:08d}"
    for digit in "0123456789":
        try:
            return normalise_bg_eik(base + digit)
        except ValueError:
            continue
    raise ValueError(base)


@functools.cache
def eik(index: int) -> str:
    """A valid 9-digit EIK for customer ``index`` (once per customer: the driver's own CPU
    counts in the table)."""
    return valid_eik(20_000_000 + index)


def email(index: int) -> str:
    return f"c{index}@bench.example.com"


def write_crm(path: Path, customers: int) -> Path:
    rows = [
        {
            "tax_id": eik(i),
            "scheme": "bg_eik",
            "name": f"Bench {i} Ltd.",
            "emails": [email(i)],
            "flags": {"active_subscription": True},
        }
        for i in range(customers)
    ]
    path.write_text(yaml.safe_dump({"customers": rows}), encoding="utf-8")
    return path


class PinBox:
    """A ``Delivery`` that keeps the last code per address instead of mailing it."""

    def __init__(self) -> None:
        self.pins: dict[str, str] = {}
        self._arrived: dict[str, asyncio.Event] = {}

    async def send(self, message: Outgoing) -> None:
        await self.send_code(message.to, str(message.params["code"]))

    async def send_code(self, address: str, code: str) -> None:
        self.pins[address] = code
        self._arrived.setdefault(address, asyncio.Event()).set()

    def forget(self) -> None:
        """Before another run over the same customers: no code of an earlier run is read."""
        self.pins.clear()
        self._arrived.clear()

    async def wait(self, address: str) -> str:
        """The code as a person reads it: once the mail has arrived (mails leave in the
        background, after the reply)."""
        await asyncio.wait_for(self._arrived.setdefault(address, asyncio.Event()).wait(), 30)
        return self.pins[address]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    started: float = 0.0
    elapsed: float = 0.0
    cpu: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def updates(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise WalkError(what)


def _buttons(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    markup = messages[-1].get("reply_markup") or {} if messages else {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def walk(index: int, ids: itertools.count[int], deliver: Deliver, pin: Pin) -> None:
    """One customer, start to hand-off link; raises WalkError on a wrong turn."""
    uid = FIRST_USER_ID + index

    async def say(text: str) -> list[dict[str, Any]]:
        return await deliver(text_update(next(ids), uid, text))

    _expect(len(await say("/start")) == 3, "intro + privacy notice + EIK question")
    _expect(len(await say("12345")) == 1, "invalid EIK notice")
    _expect(len(await say(eik(index))) == 1, "e-mail question")
    buttons = _buttons(await say(email(index)))
    _expect(len(buttons) == 2 and "callback_data" in buttons[0], "code prompt with buttons")
    resend = buttons[0]["callback_data"]
    _expect(len(await deliver(callback_update(next(ids), uid, resend))) == 1, "wait notice")
    link = _buttons(await say(await pin(email(index))))
    # an https page opens inside Telegram (a web_app button); else a plain link button
    _expect(len(link) == 1 and ("url" in link[0] or "web_app" in link[0]), "password hand-off link")


async def drive(
    customers: int, in_flight: int, deliver: Deliver, pin: Pin, *, rate: float | None = None
) -> Stats:
    """``in_flight`` customers at a time, each sending its next update on the last answer:
    at once (the saturation run), or, with ``rate``, after a think time drawn so that the
    customers together offer ``rate`` updates/s (exponential: Poisson-like arrivals). Only
    the time from sending an update to its replies counts as its latency."""
    stats = Stats()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(customers):
        queue.put_nowait(index)
    ids = _UPDATE_IDS  # one bot's update ids never repeat (Telegram's increase), run after run
    think = random.Random(7)  # the same pauses every run

    async def timed(update: dict[str, Any]) -> list[dict[str, Any]]:
        if rate:
            await asyncio.sleep(think.expovariate(rate / in_flight))
        start = time.perf_counter()
        replies = await deliver(update)
        stats.latencies.append(time.perf_counter() - start)
        return replies

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            try:
                await walk(index, ids, timed, pin)
            except WalkError as exc:
                stats.failures.append(f"customer {index}: {exc}")

    cpu, stats.started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    stats.elapsed = time.perf_counter() - stats.started
    stats.cpu = time.process_time() - cpu
    return stats
