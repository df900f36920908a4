"""Driving the pages in Debian's Chromium and checking them with axe-core.

axe-core comes from ``tests/web/axe`` (``npm ci`` against its package-lock, which pins the
version and its hash; ``make browser`` runs it). The pages' CSP allows no inline script, so
the context that injects axe bypasses the CSP; nothing else in these contexts does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "pages"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN_AXE = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}}).then(result =>
  result.violations.map(v => ({id: v.id, help: v.help,
                               nodes: v.nodes.map(n => n.target.join(" "))})))"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 A/AA (and best-practice) violations on the page as it is now."""
    assert AXE.is_file(), "axe-core is missing: run `make browser` (npm ci in tests/web/axe)"
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(RUN_AXE, WCAG_TAGS)
    return found


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def checked(page: Page, name: str) -> None:
    """Screenshot, then assert axe-core finds nothing."""
    await shot(page, name)
    assert await violations(page) == [], name
