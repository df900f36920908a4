"""``python -m bench``: the performance benchmark. Prints a table and, last, one line:

    bench: updates_per_s=… vs_aiogram=…x vs_floor=…x redis_round_trips_per_update=… …

Run by hand (never a timed test). Needs the Redis (db 12 is flushed before and after) and,
for records, PostgreSQL at 127.0.0.1:5432 (a database of its own, dropped afterwards; SQLite
when PostgreSQL is not reachable, or with ``--records sqlite``).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from bench import floor, ours, report
from bench.customers import UPDATES_PER_CUSTOMER, Stats, write_crm
from bench.measure import peak_rss_mb
from bench.place import place
from bot import loop as event_loop


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000, help="simulated customers")
    parser.add_argument("--in-flight", type=int, default=200, help="customers talking at once")
    parser.add_argument("--records", choices=("auto", "postgresql", "sqlite"), default="auto")
    parser.add_argument("--workers", type=int, default=2, help="max workers for the HTTP run")
    parser.add_argument(
        "--machines", type=int, default=0, help="also 1 and N supervisors (machines), 1 worker each"
    )
    parser.add_argument("--skip-aiogram", action="store_true", help="no aiogram reference")
    parser.add_argument("--skip-workers", action="store_true", help="no multi-worker run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="saturation runs of each line, alternated; the best of each counts",
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument the hot path")
    return parser.parse_args()


async def _main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="onboard-bench-") as tmp:
        crm = write_crm(Path(tmp) / "crm.yaml", args.users)
        async with place(crm, args.records) as where:
            print(
                f"bench: {args.users} customers x {UPDATES_PER_CUSTOMER} updates, "
                f"{args.in_flight} in flight; Redis {where.redis_url}; records in {where.records}"
            )
            rounds: dict[str, list[Stats]] = {"ours": [], "floor": [], "aiogram": []}
            rss = 0.0
            for round_ in range(max(1, args.rounds)):
                first = round_ == 0  # the paced run (latency) once, in the first round
                rounds["ours"].append(
                    await ours.run(
                        where, args.users, args.in_flight, profile=args.profile, paced=first
                    )
                )
                if first:
                    rss = peak_rss_mb()  # before the references load anything
                rounds["floor"].append(await floor.run(where.redis_url, args.users, args.in_flight))
                if not args.skip_aiogram:
                    from bench import aiogram_ref  # noqa: PLC0415 - optional dependency

                    rounds["aiogram"].append(
                        await aiogram_ref.run(
                            where.redis_url, where.database_url, args.users, args.in_flight
                        )
                    )
            report.rounds(rounds)
            mine = report.best(rounds["ours"])
            base = report.best(rounds["floor"])
            aiogram = report.best(rounds["aiogram"]) if rounds["aiogram"] else None
            scaling = None
            if not args.skip_workers:
                from bench import scaling as scaling_run  # noqa: PLC0415

                scaling = await scaling_run.run(where, args.users, args.in_flight, args.workers)
            machines = None
            if args.machines > 1:
                from bench import machines as machines_run  # noqa: PLC0415

                machines = await machines_run.run(where, args.users, args.in_flight, args.machines)
            return report.show(
                mine, base, aiogram, scaling, rss, in_flight=args.in_flight, machines=machines
            )


def main() -> int:
    # The loop the deployed processes run on (uvloop where installed), for every run alike.
    return event_loop.run(_main(_arguments()))


if __name__ == "__main__":
    raise SystemExit(main())
