"""Two OS processes, one conversation: no lost increment, no update applied twice.

Process A handles update ids 0..149 and process B 50..199. Both start with the shared
50..149 (in the same order) so they really race for the same ids, then do their own.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Queue
from typing import Any

import pytest

from .conftest import BACKENDS, CLUSTER, KEY, Backend, apply_once, backend, decode, open_store

SHARED = list(range(50, 150))
IDS_A = SHARED + list(range(50))
IDS_B = SHARED + list(range(150, 200))
START_TIMEOUT = 60.0


async def _apply_all(where: Backend, ids: list[int]) -> list[int]:
    async with open_store(where, ttl_seconds=600) as store:
        return [update_id for update_id in ids if await apply_once(store, KEY, update_id)]


@dataclass(frozen=True)
class Job:
    """What one child does (pickled to it by the spawn context)."""

    name: str
    where: Backend
    ids: list[int]


def _worker(job: Job, start: Barrier, results: Queue[Any]) -> None:
    """Child process entry: its own event loop and its own store, opened from the URL."""
    try:
        start.wait(START_TIMEOUT)
        results.put((job.name, asyncio.run(_apply_all(job.where, job.ids))))
    except BaseException as exc:
        results.put((job.name, repr(exc)))
        raise


def _run_pair(where: Backend) -> dict[str, list[int]]:
    """Start both children, wait for both, return what each applied (blocking)."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    results = ctx.Queue()
    children = [
        ctx.Process(target=_worker, args=(Job(name, where, ids), start, results))
        for name, ids in (("A", IDS_A), ("B", IDS_B))
    ]
    for child in children:
        child.start()
    try:
        outcomes = dict(results.get(timeout=120) for _ in children)
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join()
        results.close()
        results.join_thread()
    errors = {name: found for name, found in outcomes.items() if isinstance(found, str)}
    assert not errors, errors
    assert [child.exitcode for child in children] == [0, 0]
    return outcomes


@pytest.mark.parametrize("kind", [*BACKENDS, CLUSTER])
async def test_two_processes_apply_every_update_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_cluster").url if kind == "cluster" else ""
    async with backend(kind, tmp_path, url) as where:
        applied = await asyncio.to_thread(_run_pair, where)
        async with open_store(where, ttl_seconds=600) as store:
            snapshot = await store.begin(KEY, None)
    state = decode(snapshot.data)
    assert state["n"] == 200
    assert sorted(state["ids"]) == list(range(200))
    assert snapshot.version == 200
    by_a, by_b = set(applied["A"]), set(applied["B"])
    assert len(applied["A"]) + len(applied["B"]) == 200
    assert not by_a & by_b
    assert set(range(50)) <= by_a  # ids only A was given
    assert set(range(150, 200)) <= by_b
