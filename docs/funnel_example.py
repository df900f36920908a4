"""Seed a database with made-up step events, for the example chart in docs/ (README: The funnel).

    python docs/funnel_example.py /tmp/funnel-example.db
    DATABASE_URL=sqlite+aiosqlite:////tmp/funnel-example.db \\
        onboard funnel --format png -o docs/funnel-example.png

Customers walk the happy path of two flows and give up along the way with fixed, made-up
odds (seeded: the same database every time); some are asked again at a step, some do not
match the CRM and try again. No real customer is in it.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from storage.db import create_engine, migrate
from storage.funnel import FunnelEvent, FunnelWriter

# step, chance to give up there, chance to be asked again there
PATHS = {
    "bg-subscription-portal": [
        ("intro", 0.02, 0),
        ("eik", 0.08, 0.25),
        ("email", 0.06, 0.1),
        ("match", 0, 0),
        ("code", 0.12, 0.15),
        ("password", 0.18, 0),
        ("finished", 0, 0),
    ],
    "pl-support-contracts": [
        ("intro", 0.03, 0),
        ("email", 0.05, 0.08),
        ("phone", 0.04, 0.2),
        ("nip", 0.1, 0.3),
        ("match", 0, 0),
        ("verify_email", 0.2, 0),
        ("password", 0.07, 0),
        ("contract", 0.05, 0.2),
        ("serial", 0.12, 0.35),
        ("check", 0, 0),
        ("contracts", 0, 0),
        ("finished", 0, 0),
    ],
}
CUSTOMERS = 400


def walk(flow: str, customer: str, rng: random.Random, start: float) -> list[FunnelEvent]:
    events, at = [], start
    for step, give_up, again in PATHS[flow]:
        at += rng.uniform(20, 300)
        events.append(FunnelEvent(at, flow, step, "entered", customer))
        if step == "finished":
            events.append(FunnelEvent(at, flow, step, "finished", customer, step))
            break
        if rng.random() < again:
            events.append(FunnelEvent(at + 30, flow, step, "invalid", customer))
        if rng.random() < give_up:
            if rng.random() < 0.15:
                events.append(FunnelEvent(at + 60, flow, step, "finished", customer, "cancelled"))
            break
    return events


async def main(path: str) -> None:
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(db)
    writer = FunnelWriter(db)
    rng = random.Random(16)  # noqa: S311 - made-up data
    now = time.time()
    for flow in PATHS:
        for number in range(CUSTOMERS):
            start = now - rng.uniform(2, 6) * 86_400
            for event in walk(flow, f"{flow[:2]}{number:05d}", rng, start):
                writer.add(event)
    await writer.close()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
