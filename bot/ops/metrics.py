"""Prometheus metrics of every ``onboard`` process (prometheus-client), served on ``/metrics``.

The metric objects live at module level, as prometheus-client means them to: its registry is
process-wide by design, and under ``onboard run --webhook --workers N`` every value is kept in
a file of ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode), so any worker's
``/metrics`` (SO_REUSEPORT hands the scrape to a random one) adds up all workers of the
machine. The supervisor empties that directory before it spawns workers
(:func:`prepare_multiprocess_dir`), names it in the environment each spawned worker inherits
(:func:`children_count_in`) and tells prometheus-client of each worker that exited
(:func:`worker_exited`).

Labels are bounded sets chosen by us (flow and step ids from the flow files, Bot API method
names, outcome words): never a chat id, a customer's input or anything else of theirs.

Hooks for code outside this module that owns the number (the delivery dispatcher, issue 14)::

    metrics.delivery(channel, outcome)             # one reply, mail or SMS delivered or not
    metrics.owed_queue(depth, oldest_age_seconds)  # the owed-items queue, after each pass
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
_METHOD = re.compile(r"[A-Za-z]{1,40}")

UPDATES = Counter(
    "onboard_updates_total",
    "Updates handled, by event kind and outcome (applied, duplicate, conflict_retried, failed).",
    ["kind", "outcome"],
)
TURN_SECONDS = Histogram(
    "onboard_turn_seconds",
    "Time the engine spent on one update: load, decide, commit (retries included).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
BOT_API_CALLS = Counter(
    "onboard_bot_api_calls_total",
    "Bot API calls by method and HTTP status ('error': no answer, e.g. a timeout).",
    ["method", "status"],
)
BOT_API_WAIT = Histogram(
    "onboard_bot_api_wait_seconds",
    "Waits before a Bot API call: 'pacing' (Telegram's message limits, held buckets included) "
    "and 'retry_after' (the wait a 429 asked for).",
    ["reason"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
)
DELIVERIES = Counter(
    "onboard_deliveries_total",
    "Owed items (replies, mails, SMS) delivered by the dispatcher, by channel and outcome.",
    ["channel", "outcome"],
)
OWED_DEPTH = Gauge(
    "onboard_owed_queue_depth",
    "Owed items waiting for delivery (the dispatcher's queue).",
    multiprocess_mode="livemax",
)
OWED_OLDEST = Gauge(
    "onboard_owed_queue_oldest_age_seconds",
    "Age of the oldest owed item still waiting for delivery.",
    multiprocess_mode="livemax",
)
CODES = Counter(
    "onboard_codes_total",
    "One-time codes by channel and outcome (sent, right, wrong, expired, locked).",
    ["channel", "outcome"],
)
TICKETS = Counter(
    "onboard_tickets_total",
    "Support tickets and requests for a person, by kind and event.",
    ["kind", "event"],
)
STEP_ENTERED = Counter(
    "onboard_step_entered_total", "Customers entering a step of a flow.", ["flow", "step"]
)
STEP_INVALID = Counter(
    "onboard_step_invalid_total",
    "Answers a step refused (the customer was asked again).",
    ["flow", "step"],
)
FLOW_FINISHED = Counter(
    "onboard_flow_finished_total",
    "Flows ended, by the end step reached (or 'cancelled').",
    ["flow", "end"],
)
HUMAN_REQUESTS = Counter(
    "onboard_human_requests_total",
    "Requests for a person (/human, the 'talk to a person' buttons), by where they were.",
    ["flow", "step"],
)
FUNNEL_DROPPED = Counter(
    "onboard_funnel_rows_dropped_total",
    "Funnel rows that could not be written to the database and were given up.",
)


def delivery(channel: str, outcome: str) -> None:
    """One owed item delivered or given up: ``channel`` is ``telegram``, ``email`` or ``sms``;
    ``outcome`` e.g. ``sent``, ``retried``, ``failed``, ``dropped``. Called by the dispatcher."""
    _deliveries(channel, outcome).inc()


@functools.lru_cache(maxsize=64)
def _deliveries(channel: str, outcome: str) -> Any:
    return DELIVERIES.labels(channel, outcome)


def owed_queue(depth: int, oldest_age_seconds: float) -> None:
    """The owed-items queue as the dispatcher last saw it (after each pass): how many items
    wait and how old the oldest is (0 when empty). The machine-wide value is the largest of
    the live processes' (they all see the same queue)."""
    OWED_DEPTH.set(depth)
    OWED_OLDEST.set(oldest_age_seconds)


def bot_api_call(method: str, status: str) -> None:
    _api_calls(method, status).inc()


@functools.lru_cache(maxsize=256)
def _api_calls(method: str, status: str) -> Any:
    """The labelled counter, looked up once per (method, status): a call per Bot API call."""
    return BOT_API_CALLS.labels(method if _METHOD.fullmatch(method) else "other", status)


def bot_api_wait(reason: str, seconds: float) -> None:
    BOT_API_WAIT.labels(reason).observe(seconds)


def ticket(kind: str, event: str) -> None:
    TICKETS.labels(kind, event).inc()


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def prepare_multiprocess_dir(default: Path) -> Path:
    """Before spawning workers: an empty metrics directory (``PROMETHEUS_MULTIPROC_DIR`` if
    the operator set it, else ``default``). Files of an earlier run are removed: their
    counters belong to processes long gone."""
    directory = multiprocess_dir() or default
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


@contextlib.contextmanager
def children_count_in(directory: Path) -> Iterator[None]:
    """Processes started inside the block inherit ``PROMETHEUS_MULTIPROC_DIR=directory``
    (a spawned worker reads it when it imports prometheus-client); this process's own
    environment is as before afterwards."""
    before = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield
    finally:
        if before is None:
            del os.environ[MULTIPROC_ENV]
        else:
            os.environ[MULTIPROC_ENV] = before


def worker_exited(pid: int | None, directory: Path) -> None:
    """A worker is gone: its live gauges stop counting (its counters stay in the sums)."""
    if pid is not None:
        _multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def exposition() -> bytes:
    """The text ``/metrics`` answers: all workers' values in multiprocess mode."""
    if multiprocess_dir() is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def names() -> set[str]:
    """Every series name this process can expose (``onboard_updates_total``,
    ``onboard_turn_seconds_bucket`` …), whether or not it has been counted yet."""
    return {
        metric.name + suffix
        for metric in REGISTRY.collect()
        if metric.name.startswith("onboard_")
        for suffix in SUFFIXES.get(metric.type, ("",))
    }
