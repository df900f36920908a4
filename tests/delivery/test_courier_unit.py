"""The courier on its own (an in-process Delivery stands in for SMTP): an owed mail is tried
again and told when it never leaves; a cap that cannot be checked sends nothing."""

from __future__ import annotations

import asyncio

import pytest

from bot.outbox import DELIVERY_FAILED, Cap, Courier
from dialogs.errors import DeliveryError
from dialogs.events import ConversationKey
from dialogs.ports import Outgoing
from dialogs.replies import Reply

KEY = ConversationKey(1, 7, 7)
MAIL = Outgoing("email", "a@example.com", "en", "Subject", "Body")


class GatedDelivery:
    """Sends when the test opens the gate (instantly when it is open)."""

    def __init__(self, open_: bool = True) -> None:
        self.gate = asyncio.Event()
        if open_:
            self.gate.set()
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        await self.gate.wait()
        self.sent.append(message)


class FailingDelivery:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0

    async def send(self, message: Outgoing) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise DeliveryError("email", "refused")


async def _no_wait(_seconds: float) -> None:
    return None


async def test_an_owed_mail_is_tried_again_and_then_sent() -> None:
    delivery = FailingDelivery(failures=2)
    courier = Courier(delivery, retry_delays=(1.0, 1.0, 1.0), sleep=_no_wait)
    assert await courier.deliver(MAIL) is None
    assert delivery.tries == 3


async def test_an_owed_mail_that_never_leaves_is_told_to_the_customer() -> None:
    delivery = FailingDelivery(failures=10)
    courier = Courier(delivery, retry_delays=(1.0, 1.0), sleep=_no_wait)
    notice = await courier.deliver(MAIL)
    assert notice is not None
    assert notice.text.msgid == DELIVERY_FAILED
    assert delivery.tries == 3


async def test_an_owed_mail_whose_cap_cannot_be_checked_is_left_for_later() -> None:
    courier = Courier(GatedDelivery(), limiter=BrokenLimiter())
    with pytest.raises(ConnectionError):  # the dispatcher tries the item again later
        await courier.deliver(MAIL, Cap("hash-of-address", limit=5, window=600))


class BrokenLimiter:
    """A send cap whose store is unreachable."""

    async def prepare(self) -> None:
        return None

    async def acquire(self, subject: str, *, now: float, limit: int, window: float) -> float:
        raise ConnectionError("Redis is down")


async def test_a_cap_that_cannot_be_checked_stops_the_send_and_tells_the_customer() -> None:
    told: list[tuple[ConversationKey, list[Reply], str]] = []

    async def notify(key: ConversationKey, replies: list[Reply], locale: str) -> None:
        told.append((key, replies, locale))

    delivery = GatedDelivery()
    courier = Courier(delivery, limiter=BrokenLimiter(), notify=notify)
    courier.submit(MAIL, KEY, Cap("hash-of-address", limit=5, window=600))
    await courier.drain()
    assert delivery.sent == []  # no cap, no send: an unbounded sender is what the cap stops
    assert [(key, locale) for key, _, locale in told] == [(KEY, "en")]
    [replies] = [replies for _, replies, _ in told]
    assert replies[0].text.msgid == DELIVERY_FAILED
