"""``python -m bench --machines M``: 1 supervisor, then M, each with one worker, sharing one
Redis and one database the way several machines do, the driver balancing every update over
them round robin (as a load balancer does). Prints the updates/s of each, the CPU per update of
each part and the ceiling the cores set, as the worker run does; and 0 lost or applied twice.

On one 2-core machine the "machines" share the cores: this measures that nothing is lost
across processes that know nothing of each other, and what several machines cost (the same
as several workers: nothing is shared but Redis and the database), not a speed-up a second
machine's cores would bring."""

from __future__ import annotations

from typing import Any

from bench.place import Place
from bench.scaling import cpu_summary, measure


async def run(where: Place, customers: int, in_flight: int, machines: int) -> dict[str, Any]:
    results = {
        n: await measure(where, 1, customers, in_flight, machines=n) for n in sorted({1, machines})
    }
    lines = ["", "machines over loopback HTTP (bench.server supervisors, 1 worker each):"]
    rates = {}
    for n, result in results.items():
        stats = result["stats"]
        rates[n] = stats.updates / stats.elapsed
        lines.append(
            f"  {n} machine(s): {rates[n]:,.0f} updates/s, p99 {stats.percentile(0.99) * 1e3:.1f}"
            f" ms, lost or doubled: {result['bad']}, unfinished: {result['unfinished']},"
            f" HTTP failures: {len(stats.failures)}; CPU per update {cpu_summary(result['cpu'])}"
        )
    bad = sum(r["bad"] + r["unfinished"] + len(r["stats"].failures) for r in results.values())
    speedup = rates[machines] / rates[1] if machines > 1 else 1.0
    return {"lines": lines, "speedup": speedup, "bad": bad}
