"""The password page as a Telegram Mini App, in Debian's Chromium.

Below the line, and said so: the Telegram client. Chromium plays it the way Telegram's apps
do: the page is opened with ``#tgWebAppData=<initData>&tgWebAppThemeParams=<theme>`` and the
client's bridge ``window.TelegramWebviewProxy.postEvent`` is a recorder (Telegram for Android
and iOS inject exactly that object); a press on the main button is Telegram's
``Telegram.WebView.receiveEvent("main_button_pressed")``. The initData is signed here the way
Telegram documents it, independently of bot/web/pages/miniapp.py.
Screenshots: tests/artifacts/pages/miniapp-*.png.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from bot.web.pages.miniapp import REFUSED
from bot.web.pages.password import SAVE, SAVED_TITLE
from dialogs.i18n import Catalogs
from storage.accounts import SqlAccounts
from tests.conftest import make_settings
from tests.web.helpers import FINISHED_TEXT, Clock, PageBed, page_bed, write_test_flows
from tests.web.pagecheck import SIZES, browser, shot, violations

__all__ = ["browser"]
pytestmark = pytest.mark.browser
BOT_TOKEN = "123456789:AAEhBP0av18jgvdMnVXYO1s6Z5nMyP_5Q2w"
CATALOGS = Catalogs()
THEME = {  # Telegram's night theme, with a button dark enough for white text (WCAG AA)
    "bg_color": "#17212b",
    "secondary_bg_color": "#0e1621",
    "text_color": "#f5f5f5",
    "link_color": "#6ab3f3",
    "button_color": "#2f6ea5",
    "button_text_color": "#ffffff",
}
RECORDER = """window.__telegram = [];
window.TelegramWebviewProxy = {postEvent: (type, data) => window.__telegram.push([type, data])};"""
GOOD = "Steppe_Wind-2024"


def signed(fields: dict[str, str], token: str = BOT_TOKEN) -> str:
    """initData as Telegram builds it (core.telegram.org/bots/webapps)."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def init_data(user: int, auth_date: float, token: str = BOT_TOKEN) -> str:
    person = {"id": user, "first_name": "Aigerim", "language_code": "kk"}
    return signed(
        {
            "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
            "user": json.dumps(person, separators=(",", ":")),
            "auth_date": str(int(auth_date)),
        },
        token,
    )


def tampered(user: int, auth_date: float) -> str:
    good = init_data(user, auth_date)
    return good.replace("Aigerim", "Mallory")  # the signature no longer matches


async def events(page: Page) -> list[tuple[str, dict[str, Any]]]:
    recorded = await page.evaluate("window.__telegram")
    return [(kind, json.loads(data)) for kind, data in recorded]


async def open_in_telegram(context: BrowserContext, url: str, data: str) -> Page:
    page = await context.new_page()
    fragment = {"tgWebAppData": data, "tgWebAppThemeParams": json.dumps(THEME)}
    await page.goto(url + "#" + "&".join(f"{k}={quote(v)}" for k, v in fragment.items()))
    return page


async def press_main_button(page: Page) -> None:
    async with page.expect_navigation():
        await page.evaluate("Telegram.WebView.receiveEvent('main_button_pressed', {})")


@pytest.fixture
async def bed(tmp_path: Path) -> Any:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(
        tmp_path, bot_token=BOT_TOKEN, portal_handoff_url="https://portal.example.com/in"
    )
    async with page_bed(settings, flows, Clock()) as bed:
        yield bed


async def stored(bed: PageBed, user: int) -> bool:
    account = await SqlAccounts(bed.app.db).get(None, f"0:{user}:{user}")
    return account is not None and account.password_hash is not None


@pytest.mark.parametrize("locale", ["bg", "de", "kk"])
async def test_inside_telegram_the_page_signs_in_follows_the_theme_and_closes(
    bed: PageBed, browser: Browser, locale: str
) -> None:
    context = await browser.new_context(viewport=SIZES["phone"], bypass_csp=True)  # for axe
    await context.add_init_script(RECORDER)
    url = bed.local(await bed.start("kk-policy", user=77, locale=locale))
    page = await open_in_telegram(context, url, init_data(77, bed.app.clock()))
    assert "in-telegram" in (await page.get_attribute("html", "class") or "")
    background = await page.evaluate("getComputedStyle(document.querySelector('main')).background")
    assert "rgb(23, 33, 43)" in background  # bg_color
    sent = await events(page)
    assert ("web_app_ready", {}) in sent
    main = [data for kind, data in sent if kind == "web_app_setup_main_button"]
    assert main[-1]["text"] == CATALOGS.gettext(SAVE, locale)
    assert main[-1]["is_visible"] is True
    assert await page.is_hidden("#save")  # the main button stands in for it
    await page.fill("#password", GOOD)
    await page.fill("#confirm", GOOD)
    await shot(page, f"miniapp-password-{locale}-phone")
    assert await violations(page) == []

    await press_main_button(page)
    assert CATALOGS.gettext(SAVED_TITLE, locale) in await page.inner_text("main")
    await page.wait_for_function(
        "window.__telegram.some(([kind]) => kind === 'web_app_close')", timeout=5000
    )
    await shot(page, f"miniapp-saved-{locale}-phone")
    assert await violations(page) == []
    assert await stored(bed, 77)
    assert bed.lines[-1] == CATALOGS.gettext(FINISHED_TEXT, locale)  # the chat moved on
    await context.close()


@pytest.mark.parametrize("case", ["tampered", "expired", "another user", "another bot"])
async def test_initdata_that_is_not_telegrams_or_not_this_users_is_refused(
    bed: PageBed, browser: Browser, case: str
) -> None:
    now = bed.app.clock()
    data = {
        "tampered": tampered(78, now),
        "expired": init_data(78, now - bed.app.settings.miniapp_max_age_seconds - 1),
        "another user": init_data(79, now),
        "another bot": init_data(78, now, token="987654321:AAFakeFakeFakeFakeFakeFakeFakeFake"),
    }[case]
    context = await browser.new_context(viewport=SIZES["phone"])
    await context.add_init_script(RECORDER)
    url = bed.local(await bed.start("kk-policy", user=78, locale="de"))
    page = await open_in_telegram(context, url, data)
    await page.fill("#password", GOOD)
    await page.fill("#confirm", GOOD)
    await press_main_button(page)
    assert CATALOGS.gettext(REFUSED, "de") in await page.inner_text("main")
    assert not await stored(bed, 78)
    assert CATALOGS.gettext(FINISHED_TEXT, "de") not in bed.lines
    await context.close()


async def test_in_an_ordinary_browser_the_same_page_needs_no_initdata(
    bed: PageBed, browser: Browser
) -> None:
    context = await browser.new_context(viewport=SIZES["desktop"])
    page = await context.new_page()
    await page.goto(bed.local(await bed.start("kk-policy", user=80, locale="kk")))
    assert "in-telegram" not in (await page.get_attribute("html", "class") or "")
    assert await page.is_visible("#save")
    await shot(page, "browser-password-kk-desktop")
    await page.fill("#password", GOOD)
    await page.fill("#confirm", GOOD)
    await page.click("#save")
    await page.wait_for_load_state()
    assert CATALOGS.gettext(SAVED_TITLE, "kk") in await page.inner_text("main")
    assert await stored(bed, 80)
    await context.close()
