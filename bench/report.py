"""The table and the machine-readable last line."""

from __future__ import annotations

from typing import Any

from bench.customers import Stats

TARGETS = {
    "vs_aiogram": 3.0,
    "vs_floor": 0.5,
    "round_trips": 2.0,
    "p99_ms": 20.0,
    "bytes": 1024.0,
    "rss_mb": 120.0,
    "speedup": 1.7,
}


def best(runs: list[Stats]) -> Stats:
    """The run of the highest rate, carrying the first run's paced figures (latency).

    The best of alternated runs, as ``timeit`` takes the best of its repeats: on a shared host
    the same code's rate moves by tens of per cent within minutes, and what slows a run down
    is the host, not the code. Every line is run the same number of times, alternated, so a
    quiet minute favours none."""
    chosen = max(runs, key=lambda stats: stats.updates / stats.elapsed)
    paced = {k: v for k, v in runs[0].extra.items() if k.startswith("paced_")}
    chosen.extra.update(paced)
    chosen.failures = [failure for stats in runs for failure in stats.failures]
    return chosen


def rounds(runs: dict[str, list[Stats]]) -> None:
    """Each round's rate per line, before the table (which shows the best of each)."""
    if max(len(line) for line in runs.values()) < 2:
        return
    for name, line in runs.items():
        if line:
            rates = ", ".join(f"{stats.updates / stats.elapsed:,.0f}" for stats in line)
            print(f"rounds, updates/s: {name}: {rates}")
    print("(alternated; the table and the last line take each line's best round)")


def _row(name: str, stats: Stats) -> str:
    updates = max(stats.updates, 1)
    trips = stats.extra.get("round_trips", float("nan")) / updates
    writes = stats.extra.get("socket_writes", float("nan")) / updates
    commands = stats.extra.get("commands", float("nan")) / updates
    size = stats.extra.get("bytes_per_conversation", float("nan"))
    rate, p50 = stats.updates / stats.elapsed, stats.percentile(0.5) * 1e3
    return (
        f"| {name:<36} | {rate:>9,.0f} | {p50:>7.1f} "
        f"| {stats.percentile(0.99) * 1e3:>7.1f} | {stats.cpu / updates * 1e6:>7.0f} "
        f"| {commands:>8.2f} | {trips:>6.2f} | {writes:>6.2f} | {size:>7.0f} "
        f"| {len(stats.failures):>6} |"
    )


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def show(
    mine: Stats,
    floor: Stats,
    aiogram: Stats | None,
    scaling: dict[str, Any] | None,
    rss: float,
    *,
    in_flight: int,
    machines: dict[str, Any] | None = None,
) -> int:
    print()
    print(
        "| run                                  | updates/s | p50 ms  | p99 ms  | CPU µs  "
        "| cmds/upd | RT/upd | wr/upd | B/conv  | failed |"
    )
    print("|" + "---|" * 11)
    print(_row("onboard (PTB transport, engine)", mine))
    if aiogram is not None:
        print(_row("aiogram 3 FSM + RedisStorage + lock", aiogram))
    print(_row("raw floor (GET + SET, redis.asyncio)", floor))
    rate = mine.updates / mine.elapsed
    vs_aiogram = rate / (aiogram.updates / aiogram.elapsed) if aiogram else float("nan")
    vs_floor = rate / (floor.updates / floor.elapsed)
    trips = mine.extra["round_trips"] / mine.updates
    saturated_p99 = mine.percentile(0.99) * 1e3
    p99 = mine.extra.get("paced_p99_ms", float("nan"))
    size = mine.extra["bytes_per_conversation"]
    print()
    print("CPU µs = the bench process's CPU per update (the simulated customers included).")
    print("RT/upd = Redis request/reply exchanges an update waits for (dedupe and atomicity")
    print("included); wr/upd = socket writes to Redis per update (the state store pipelines")
    print("concurrent updates' calls into shared writes); cmds/upd = commands the server")
    print("executed per update (INFO commandstats; commands inside Lua scripts included).")
    background = mine.extra.get("background_round_trips", 0) / mine.updates
    print(
        f"off the update's path: {background:.2f} Redis exchanges per update in the courier's"
        " background tasks (the per-address send cap, once per code sent)"
    )
    print(f"peak RSS of the in-process bench (bot + simulated customers): {rss:.0f} MB")
    worker_rss = scaling["worker_rss"] if scaling is not None else rss
    print()
    print(f"target updates/s >= 3x aiogram: {vs_aiogram:.2f}x {_mark(vs_aiogram >= 3)}")
    print(f"target updates/s >= 0.5x floor: {vs_floor:.2f}x {_mark(vs_floor >= 0.5)}")
    print(f"target <= 2 Redis round trips per update: {trips:.2f} {_mark(trips <= 2)}")
    if "paced_rate" in mine.extra:
        print(
            f"paced run, {in_flight} customers in flight offering half the rate above:"
            f" {mine.extra['paced_rate']:,.0f} updates/s, p50 {mine.extra['paced_p50_ms']:.1f} ms,"
            f" p99 {p99:.1f} ms"
        )
    print(
        f"target p99 <= 20 ms at {in_flight} in flight (paced run): {p99:.1f} ms {_mark(p99 <= 20)}"
    )
    print(
        f"  (saturation run: p99 {saturated_p99:.1f} ms; there every customer answers at once,"
        f" so an update waits {in_flight} / {rate:,.0f} = {in_flight / rate * 1e3:.0f} ms on"
        " average behind the others: Little's law, not the code)"
    )
    print(f"target <= 1 KB Redis per finished conversation: {size:.0f} B {_mark(size <= 1024)}")
    where = "one webhook worker" if scaling is not None else "the in-process bench"
    print(f"target peak RSS <= 120 MB ({where}): {worker_rss:.0f} MB {_mark(worker_rss <= 120)}")
    speedup = ""
    if scaling is not None:
        for line in scaling["lines"]:
            print(line)
        ok = scaling["speedup"] >= 1.7
        print(f"target speed-up of 2 workers >= 1.7x: {scaling['speedup']:.2f}x {_mark(ok)}")
        speedup = f" workers_speedup={scaling['speedup']:.2f}x lost_or_doubled={scaling['bad']}"
    if machines is not None:
        for line in machines["lines"]:
            print(line)
        speedup += f" machines_speedup={machines['speedup']:.2f}x machines_lost_or_doubled="
        speedup += str(machines["bad"])
    failed = len(mine.failures) + (scaling["bad"] if scaling else 0)
    failed += machines["bad"] if machines else 0
    for failure in mine.failures[:5]:
        print(f"failure: {failure}")
    print(
        f"bench: updates_per_s={rate:.0f} vs_aiogram={vs_aiogram:.2f}x vs_floor={vs_floor:.2f}x "
        f"redis_round_trips_per_update={trips:.2f} p99_ms={p99:.1f} "
        f"p99_saturated_ms={saturated_p99:.1f} "
        f"redis_bytes_per_conversation={size:.0f} peak_rss_mb={worker_rss:.0f}{speedup}"
    )
    return 1 if failed else 0
