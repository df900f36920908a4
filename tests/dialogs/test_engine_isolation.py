"""The engine must not know any Telegram library."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys, pkgutil, importlib, dialogs
for module in pkgutil.walk_packages(dialogs.__path__, "dialogs."):
    importlib.import_module(module.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in {"telegram", "aiogram", "aiohttp"})
print(",".join(bad))
"""


def test_importing_every_engine_module_pulls_in_no_telegram_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
