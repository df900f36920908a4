"""Modules stay small (issue 18): at most 300 lines each in bot/, dialogs/ and storage/, so
each one can be read whole. The exceptions are named here with the reason, so that adding
one is a decision someone made, not a drift."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.layout

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 300
EXCEPTIONS = {
    "bot/dispatch.py": "reworked for exactly-once delivery on its own branch; split there",
}


def lines_of(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_every_module_is_at_most_300_lines() -> None:
    modules = sorted(
        path
        for package in ("bot", "dialogs", "storage")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )
    assert len(modules) > 150  # the walk found the packages
    too_long = {
        str(path.relative_to(ROOT)): lines_of(path)
        for path in modules
        if lines_of(path) > LIMIT and str(path.relative_to(ROOT)) not in EXCEPTIONS
    }
    assert too_long == {}


def test_the_exceptions_are_still_needed() -> None:
    for name in EXCEPTIONS:
        assert lines_of(ROOT / name) > LIMIT, f"{name} fits now: drop it from EXCEPTIONS"


def test_each_messaging_app_is_one_package() -> None:
    """Nothing outside bot/channels reads a messaging app's updates or renders for it."""
    channels = ROOT / "bot" / "channels"
    assert {p.name for p in channels.iterdir() if p.is_dir() and p.name != "__pycache__"} >= {
        "telegram"
    }
    assert not (ROOT / "bot" / "telegram").exists()
    assert not (ROOT / "bot" / "terminal.py").exists()
    for path in (ROOT / "dialogs").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import telegram" not in text
        assert "from telegram" not in text
        assert "from bot" not in text, f"{path}: the engine knows no bot package"
