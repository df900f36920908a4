"""``python -m bench --machines 2`` runs: two supervisors (one worker each) on one Redis and one
database, the driver balancing every update over them; nothing is lost or applied twice.
Functional only: how fast is the benchmark's business, read from its printed line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import machines
from bench.customers import write_crm
from bench.place import place

pytestmark = pytest.mark.cluster


async def test_two_machines_in_the_benchmark_lose_nothing(tmp_path: Path, app_redis: str) -> None:
    crm = write_crm(tmp_path / "crm.yaml", 24)
    async with place(crm, redis_url=app_redis) as where:
        result = await machines.run(where, 24, 6, 2)
    assert result["bad"] == 0
    one, two = result["lines"][-2:]
    assert one.startswith("  1 machine(s): ")
    assert two.startswith("  2 machine(s): ")
    for line in (one, two):
        assert "lost or doubled: 0, unfinished: 0, HTTP failures: 0" in line
        assert "cores serve at most" in line
    assert result["speedup"] > 0
