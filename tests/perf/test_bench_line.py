"""The benchmark's own line (``python -m bench``, bench/ours.py) on a few customers: every walk
ends at the hand-off link and its Redis counters count. Functional only: how fast is the
benchmark's business (never a timed assertion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import ours
from bench.customers import UPDATES_PER_CUSTOMER, Stats, write_crm
from bench.place import place
from bench.report import best

pytestmark = pytest.mark.chaos  # issue 14: the benchmark that measures the update's path


async def test_the_benchmark_walks_and_counts_round_trips(tmp_path: Path, app_redis: str) -> None:
    crm = write_crm(tmp_path / "crm.yaml", 12)
    async with place(crm, redis_url=app_redis) as where:
        stats = await ours.run(where, 12, 4)
    assert stats.failures == []
    assert stats.updates == 12 * UPDATES_PER_CUSTOMER
    trips = stats.extra["round_trips"] / stats.updates
    # 1 per update once a conversation's last turn was committed here; a new one reads first
    assert 1.0 <= trips <= 2.0, trips
    assert stats.extra["commands"] > stats.updates


def test_the_best_round_counts_with_the_first_rounds_latency_and_every_failure() -> None:
    """Alternated rounds (``--rounds``): the table takes each line's fastest round, the paced
    (latency) figures of the first round, which alone has them, and every round's failures."""

    def run(updates: int, seconds: float, **extra: float) -> Stats:
        return Stats(latencies=[0.001] * updates, elapsed=seconds, extra=dict(extra))

    first = run(1000, 1.0, paced_p99_ms=12.0, round_trips=1200.0)
    first.failures = ["customer 3: wait notice"]
    fast, slow = run(1000, 0.5, round_trips=1190.0), run(1000, 2.0)
    chosen = best([first, fast, slow])
    assert chosen is fast
    assert chosen.extra == {"round_trips": 1190.0, "paced_p99_ms": 12.0}
    assert chosen.failures == ["customer 3: wait notice"]
