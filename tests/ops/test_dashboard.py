"""The Grafana dashboard in docs/ uses only metrics the bot exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.ops import metrics

pytestmark = pytest.mark.ops
DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
METRIC = re.compile(r"\bonboard_[a-z_]+\b")


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [str(node["expr"])] if "expr" in node else []
        query = node.get("query")
        if isinstance(query, dict) and "query" in query:
            found.append(str(query["query"]))
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return []


def test_every_metric_of_the_dashboard_exists() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {name for expr in expressions(board) for name in METRIC.findall(expr)}
    assert len(used) >= 12
    assert used - metrics.names() == set()


def test_the_dashboard_shows_every_metric_the_issue_asks_for() -> None:
    board = DASHBOARD.read_text(encoding="utf-8")
    for family in (
        "onboard_updates_total",
        "onboard_turn_seconds",
        "onboard_bot_api_calls_total",
        "onboard_bot_api_wait_seconds",
        "onboard_deliveries_total",
        "onboard_owed_queue_depth",
        "onboard_owed_queue_oldest_age_seconds",
        "onboard_codes_total",
        "onboard_tickets_total",
        "onboard_step_entered_total",
        "onboard_step_invalid_total",
        "onboard_flow_finished_total",
        "onboard_human_requests_total",
    ):
        assert family in board, family


def test_the_dispatchers_hooks_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """``metrics.delivery`` and ``metrics.owed_queue``: what the dispatcher (issue 14) calls."""
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = sample("onboard_deliveries_total", channel="email", outcome="sent")
    metrics.delivery("email", "sent")
    assert sample("onboard_deliveries_total", channel="email", outcome="sent") == before + 1
    metrics.owed_queue(7, 12.5)
    assert sample("onboard_owed_queue_depth") == 7
    assert sample("onboard_owed_queue_oldest_age_seconds") == 12.5
    metrics.bot_api_call("bot123:secret/sendMessage", "200")  # never a URL as a label
    assert sample("onboard_bot_api_calls_total", method="other", status="200") >= 1
