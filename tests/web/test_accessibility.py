"""Every hand-off page, in every state a customer meets, passes axe-core (WCAG 2.2 A/AA and
best practice) with 0 violations: in bg, de and kk, at phone (390×844) and desktop size.
Screenshots: tests/artifacts/pages/<page>-<locale>-<size>.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from dialogs.events import ConversationKey
from dialogs.steps.handoff import token_hash
from dialogs.steps.link import VERIFY_PATH, new_token
from tests.conftest import make_settings
from tests.web.helpers import Clock, PageBed, page_bed, write_test_flows
from tests.web.pagecheck import SIZES, browser, checked, violations

__all__ = ["browser"]
pytestmark = pytest.mark.browser


async def verify_link(bed: PageBed, user: int, locale: str) -> str:
    """A verification link, stored as the ``email_link`` step stores it."""
    raw = new_token()
    await bed.app.records.store_token(
        token_hash=token_hash(raw),
        purpose=VERIFY_PATH,
        key=ConversationKey(0, user, user),
        customer_id=None,
        locale=locale,
        expires_at=bed.app.clock() + 600,
    )
    return f"{bed.base_url}/{VERIFY_PATH}/{raw}"


async def password_states(page: Page, bed: PageBed, locale: str, size: str) -> None:
    url = bed.local(await bed.start("kk-policy", user=1, locale=locale))
    await page.goto(url)
    await checked(page, f"password-{locale}-{size}")
    await page.type("#password", "abc")
    await page.click("#toggle")
    await checked(page, f"password-typing-{locale}-{size}")
    await page.fill("#password", "abcdefgh")
    await page.fill("#confirm", "abcdefgh")
    await page.click("#save")
    await page.wait_for_load_state()
    await checked(page, f"password-refused-{locale}-{size}")
    await page.fill("#password", "Steppe_Wind-2024")
    await page.fill("#confirm", "Steppe_Wind-2024")
    await page.click("#save")
    await page.wait_for_load_state()
    await checked(page, f"password-saved-{locale}-{size}")
    await page.goto(url)
    await checked(page, f"password-used-{locale}-{size}")


async def pin_states(page: Page, bed: PageBed, locale: str, size: str) -> None:
    await page.goto(bed.local(await bed.start("pin-page", user=2, locale=locale)))
    await checked(page, f"pin-{locale}-{size}")
    await page.fill("#pin", "123456")
    await page.click("#choose")
    await page.wait_for_load_state()
    await checked(page, f"pin-refused-{locale}-{size}")
    await page.click("#generate")
    await page.wait_for_load_state()
    await checked(page, f"pin-shown-{locale}-{size}")
    await page.check("#stored")
    await page.click("#continue")
    await page.wait_for_load_state()
    await checked(page, f"pin-done-{locale}-{size}")


async def verify_states(page: Page, bed: PageBed, locale: str, size: str) -> None:
    url = await verify_link(bed, 3, locale)
    await page.goto(url)
    await checked(page, f"verify-{locale}-{size}")
    await page.goto(url)
    await checked(page, f"verify-used-{locale}-{size}")
    await page.goto(f"{bed.base_url}/password/{new_token()}")
    await checked(page, f"unknown-link-{locale}-{size}")


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("locale", ["bg", "de", "kk"])
async def test_every_page_and_state_has_no_axe_violations(
    tmp_path: Path, browser: Browser, locale: str, size: str
) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, Clock()) as bed:
        context = await browser.new_context(
            viewport=SIZES[size],
            bypass_csp=True,
            locale=locale,  # bypass: to inject axe
        )
        page = await context.new_page()
        await password_states(page, bed, locale, size)
        await pin_states(page, bed, locale, size)
        await verify_states(page, bed, locale, size)
        await context.close()


async def test_the_check_finds_what_axe_core_would_refuse(browser: Browser) -> None:
    """The checker is live: a field without a label and an image without text are reported."""
    page = await browser.new_page()
    await page.set_content('<html lang="en"><title>t</title><main><img src="x.png"><input></main>')
    found = {violation["id"] for violation in await violations(page)}
    assert {"image-alt", "label"} <= found
    await page.close()
