"""``python -m bench.crm_timing``: can the time a customer waits tell a known identity from an
unknown one when the CRM is asked live?

A CRM on loopback (tests/crm/server.py) answers about an identity it knows ``--delay`` ms
later than about one it does not, as a real CRM does when it goes on to compare the e-mail.
The bg flow is walked up to the look-up for ``--lookups`` known EIKs (with an e-mail not on
record) and as many unknown ones, interleaved; the time from the customer's e-mail to the
bot's answer is measured through the engine. Printed: the medians without padding
(``CRM_LOOKUP_MIN_MS=0``) and with it, and whether the replies were the same.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.customers import valid_eik
from bot.app import App, build_app
from bot.config import Settings
from bot.delivery import DevelopmentDelivery
from dialogs.engine import Outcome
from dialogs.events import ConversationKey, Event, EventKind
from dialogs.i18n import Catalogs
from dialogs.render import render
from tests.crm.server import FakeCrm

KNOWN_EIK, WRONG_EMAIL = "175074752", "someone@example.com"


def unknown_eik(index: int) -> str:
    """A valid EIK the demo CRM does not have."""
    return valid_eik(30_000_000 + index)


@dataclass(frozen=True)
class Timing:
    padding_ms: int
    known_ms: float
    unknown_ms: float
    same_replies: bool
    mails: int

    @property
    def difference_ms(self) -> float:
        return self.known_ms - self.unknown_ms

    def line(self) -> str:
        return (
            f"padding {self.padding_ms:>4} ms: known {self.known_ms:7.1f} ms, unknown "
            f"{self.unknown_ms:7.1f} ms, difference {self.difference_ms:+6.1f} ms; "
            f"same replies: {self.same_replies}; mails sent: {self.mails}"
        )


def _shown(outcome: Outcome, catalogs: Catalogs) -> tuple[object, ...]:
    """What the customer sees: the texts and the buttons (label and data), and the effects."""
    replies = (
        (
            render(reply.text, catalogs, outcome.locale, str),
            tuple((render(b.label, catalogs, outcome.locale, str), b.data) for b in reply.buttons),
        )
        for reply in outcome.replies
    )
    return (*replies, outcome.effects)


async def _one(app: App, chat: int, eik: str) -> tuple[float, tuple[object, ...]]:
    key = ConversationKey(bot_id=1, chat_id=chat, user_id=chat)

    def event(kind: EventKind, text: str = "", command: str | None = None) -> Event:
        return Event(key, kind, text=text, command=command, language_code="bg")

    await app.engine.handle(event(EventKind.COMMAND, command="start"))
    await app.engine.handle(event(EventKind.TEXT, eik))
    started = time.perf_counter()
    outcome = await app.engine.handle(event(EventKind.TEXT, WRONG_EMAIL))
    return (time.perf_counter() - started) * 1000, _shown(outcome, app.catalogs)


async def measure(
    crm: FakeCrm, directory: Path, *, lookups: int = 50, padding_ms: int = 0
) -> Timing:
    """Medians over ``lookups`` known and ``lookups`` unknown identities against ``crm``."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{directory / f'timing-{padding_ms}.db'}",
        secret_key="crm-timing-secret-0123456789abcdef",  # noqa: S106 - a throwaway database
        crm_lookup_url=crm.url,
        crm_lookup_token=crm.token,
        crm_lookup_min_ms=padding_ms,
        crm_breaker_failures=100,
    )
    delivery = DevelopmentDelivery(Catalogs(), echo=lambda _line: None)
    app = await build_app(settings, delivery=delivery)
    known: list[float] = []
    unknown: list[float] = []
    shown: set[tuple[object, ...]] = set()
    try:
        await _one(app, 1, unknown_eik(10_000))  # warm-up: connections, statements
        for index in range(lookups):
            pair = [(known, KNOWN_EIK), (unknown, unknown_eik(index))]
            for times, eik in pair if index % 2 else reversed(pair):
                took, seen = await _one(app, 100 + 2 * index + (times is unknown), eik)
                times.append(took)
                shown.add(seen)
        await app.effects.courier.drain()
    finally:
        await app.close()
    return Timing(
        padding_ms,
        statistics.median(known),
        statistics.median(unknown),
        len(shown) == 1,
        len(delivery.sent),
    )


async def _main(args: argparse.Namespace) -> int:
    crm = FakeCrm.from_file(known_delay=args.delay / 1000)
    async with crm.serve():
        with tempfile.TemporaryDirectory(prefix="onboard-crm-timing-") as tmp:
            print(
                f"crm timing: {args.lookups} known and {args.lookups} unknown identities; "
                f"the CRM answers a known one {args.delay} ms slower"
            )
            for padding in (0, args.padding):
                timing = await measure(crm, Path(tmp), lookups=args.lookups, padding_ms=padding)
                print("  " + timing.line())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crm_timing", description=__doc__)
    parser.add_argument("--lookups", type=int, default=50, help="identities of each kind")
    parser.add_argument("--delay", type=int, default=60, help="ms the CRM adds when it knows")
    parser.add_argument("--padding", type=int, default=300, help="CRM_LOOKUP_MIN_MS to try")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
