"""Issue 17, items 19 and 20, through the customer's path: the link from the chat, opened in
Debian's Chromium whose language (Accept-Language) is English while the customer's is not.

19. Used, expired and rate-limited pages follow the token's language and name the page the link
    was for; ``/verify/<token>`` has the stylesheet; ``/favicon.ico`` exists.
20. The password rules' met/unmet state is text (not only a CSS glyph), the fields point at the
    rules (``aria-describedby``), the live region says what changed, the maximum length is a
    rule from the start and enforced by ``maxlength``, Show says whether it is pressed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from bot.web import passwords
from bot.web.pages import password, pin
from bot.web.pages.guard import PageLimits
from dialogs import durations
from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import Text, say_n
from dialogs.steps.handoff import PAGE_INTRO
from tests.conftest import make_settings
from tests.web.helpers import Clock, page_bed, write_flow, write_test_flows
from tests.web.pagecheck import browser
from tests.web.test_accessibility import verify_link

__all__ = ["browser"]
pytestmark = [pytest.mark.browser, pytest.mark.stumbles]
CATALOGS = Catalogs()
GOOD = "Steppe_Wind-2024"


def t(msgid: str, locale: str, **params: str | int) -> str:
    return render(Text(msgid, params), CATALOGS, locale)


async def english_browser(browser: Browser) -> Page:
    context = await browser.new_context(locale="en-US")
    return await context.new_page()


async def heading_and_text(page: Page) -> tuple[str, str]:
    return (await page.inner_text("h1")).strip(), await page.inner_text("main")


async def test_used_and_expired_links_speak_the_tokens_language_and_name_their_page(
    tmp_path: Path, browser: Browser
) -> None:
    clock = Clock()
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, clock) as bed:
        page = await english_browser(browser)
        url = bed.local(await bed.start("kk-policy", user=1, locale="kk"))
        await page.goto(url)
        await page.fill("#password", GOOD)
        await page.fill("#confirm", GOOD)
        await page.click("#save")
        await page.wait_for_load_state()
        used = await page.goto(url)
        assert used is not None
        assert used.status == 410
        heading, text = await heading_and_text(page)
        assert heading == t(password.PAGE_TITLE, "kk")
        assert t(password.LINK_INVALID, "kk") in text

        pin_url = bed.local(await bed.start("pin-page", user=2, locale="bg"))
        await page.goto(pin_url)
        await page.click("#generate")
        await page.wait_for_load_state()
        await page.check("#stored")
        await page.click("#continue")
        await page.wait_for_load_state()
        await page.goto(pin_url)  # used: the heading is the PIN page's, in Bulgarian
        heading, text = await heading_and_text(page)
        assert heading == t(pin.TITLE, "bg")
        assert heading != t(password.PAGE_TITLE, "bg")
        assert t(password.LINK_INVALID, "bg") in text

        expired_url = bed.local(await bed.start("pin-page", user=3, locale="de"))
        clock.now += 31 * 60
        expired = await page.goto(expired_url)
        assert expired is not None
        assert expired.status == 410
        heading, text = await heading_and_text(page)
        assert heading == t(pin.TITLE, "de")
        assert t(password.LINK_INVALID, "de") in text
        await page.context.close()


async def test_a_rate_limited_pin_page_speaks_the_tokens_language(
    tmp_path: Path, browser: Browser
) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    limits = PageLimits(per_token=1, per_address=50, window=600)
    async with page_bed(settings, flows, Clock(), limits) as bed:
        page = await english_browser(browser)
        await page.goto(bed.local(await bed.start("pin-page", user=4, locale="kk")))
        await page.fill("#pin", "123456")
        await page.click("#choose")  # refused (too easy), and the token's one attempt
        await page.wait_for_load_state()
        await page.fill("#pin", "40817263")
        await page.click("#choose")
        await page.wait_for_load_state()
        heading, text = await heading_and_text(page)
        assert heading == t(pin.TITLE, "kk")
        assert t(password.TOO_MANY, "kk", minutes=durations.minutes(10)) in text
        await page.context.close()


async def test_the_verify_page_has_the_stylesheet_and_the_site_a_favicon(
    tmp_path: Path, browser: Browser
) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, Clock()) as bed:
        page = await english_browser(browser)
        await page.goto(await verify_link(bed, 5, "pl"))
        assert await page.get_attribute("link[rel=stylesheet]", "href") == "/static/page.css"
        box = await page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth")
        assert box != "none"  # the stylesheet applies (main is a centred card)
        assert (await page.inner_text("h1")).strip() == t("Confirm your e-mail address", "pl")
        icon = await page.goto(bed.base_url + "/favicon.ico")
        assert icon is not None
        assert icon.status == 200
        assert icon.headers["content-type"] == "image/svg+xml"
        await page.context.close()


async def state(page: Page, rule: str) -> str:
    return str(await page.text_content(f"#rule-{rule} .state")).strip(": ")


async def test_the_password_rules_speak_to_screen_readers(tmp_path: Path, browser: Browser) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, Clock()) as bed:
        page = await english_browser(browser)
        await page.goto(bed.local(await bed.start("kk-policy", user=6, locale="kk")))
        met, unmet = t(password.MET, "kk"), t(password.UNMET, "kk")
        assert await state(page, "length") == unmet
        assert await page.get_attribute("#password", "aria-describedby") == "rules"
        assert await page.get_attribute("#confirm", "aria-describedby") == "rule-match"
        # The maximum is a rule before anything is submitted, and the fields enforce it.
        maximum = render(say_n(passwords.TOO_LONG, 128), CATALOGS, "kk")
        assert maximum in await page.inner_text("#rules")
        assert await page.get_attribute("#password", "maxlength") == "128"
        await page.type("#password", "abcdefgh")
        assert await state(page, "length") == met
        assert await state(page, "upper") == unmet
        announced = await page.inner_text("#announce")
        length = render(say_n(passwords.RULE_LENGTH, 8), CATALOGS, "kk")
        assert f"{length}: {met}" in announced
        assert await page.get_attribute("#announce", "aria-live") == "polite"
        # What a screen reader gets: each rule with its state, and no glyph.
        snapshot = (await page.locator("#rules").aria_snapshot()).replace(" :", ":")
        assert f'listitem: "{length}: {met}"' in snapshot
        assert f'listitem: "{t(passwords.RULE_DIGIT, "kk")}: {unmet}"' in snapshot
        await page.fill("#password", "x" * 300)
        assert len(await page.input_value("#password")) == 128
        assert await page.get_attribute("#toggle", "aria-pressed") == "false"
        await page.click("#toggle")
        assert await page.get_attribute("#toggle", "aria-pressed") == "true"
        await page.context.close()


VIDEO_INTRO = "Choose the password for your video consultation account. It needs:"


async def test_the_password_page_names_the_flows_product(tmp_path: Path, browser: Browser) -> None:
    """Issue 19: the video consultation is not a "customer portal" (the flow's ``page_intro``)."""
    flows = write_test_flows(tmp_path / "flows")
    write_flow(flows, "video", page_intro=VIDEO_INTRO)
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, Clock()) as bed:
        page = await english_browser(browser)
        await page.goto(bed.local(await bed.start("video", user=7, locale="de")))
        text = await page.inner_text("main")
        assert t(VIDEO_INTRO, "de") in text
        assert "Kundenportal" not in text
        await page.goto(bed.local(await bed.start("kk-policy", user=8, locale="de")))
        assert t(PAGE_INTRO, "de") in await page.inner_text("main")  # the default
        await page.context.close()
