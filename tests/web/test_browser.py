"""The hand-off pages in a real browser: Debian's Chromium driven by Playwright.

What a person sees: ticks that follow the typing, refusals that name the rule, the chat
told through the Telegram transport, links that work once, and the PIN page's copy and PDF.
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from bot.web import passwords
from bot.web.pages.password import SAVED_TITLE
from bot.web.passwords import SecretHasher
from bot.web.server import serving, web_app_for
from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.replies import Text, say_n
from storage.accounts import PinCheck, SqlAccounts
from tests.bot.harness import RunningBot, running_bot
from tests.conftest import make_settings
from tests.web.helpers import (
    FINISHED_TEXT,
    Clock,
    PageBed,
    base_url,
    page_bed,
    write_test_flows,
)
from tests.web.pagecheck import browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PORTAL = "https://portal.example.com/login"
CATALOGS = Catalogs()
__all__ = ["browser"]  # the Chromium fixture, shared with the other page tests
pytestmark = pytest.mark.browser


async def ticks(page: Page) -> dict[str, bool]:
    items = await page.locator("[data-rule]").all()
    return {
        str(await item.get_attribute("data-rule")): await item.get_attribute("data-met") == "yes"
        for item in items
    }


async def submit(page: Page, password: str, again: str | None = None) -> str:
    await page.fill("#password", password)
    await page.fill("#confirm", password if again is None else again)
    await page.click("#save")
    await page.wait_for_load_state()
    return await page.inner_text("main")


async def refused_rules(page: Page, password: str, again: str | None = None) -> list[str]:
    await submit(page, password, again)
    return [text.strip() for text in await page.locator("#errors li").all_inner_texts()]


async def walk_to_the_link(bot: RunningBot, user: int, locale: str) -> str:
    alice = bot.customer(user, language_code=locale)
    await alice.send("/start")
    await alice.send("175074752")
    await alice.send("demo@example.com")
    await bot.app.effects.courier.drain()  # mails leave in the background
    mail = bot.delivery.sent[-1][0]
    await alice.send(str(mail.params["code"]))
    return alice.link()


async def test_the_bg_password_page_end_to_end_through_telegram(
    tmp_path: Path, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    clock = Clock()
    settings = make_settings(tmp_path, portal_url=PORTAL)
    async with running_bot(settings, clock=clock) as bot:
        web_app = web_app_for(bot.app, bot.transport.push)
        async with serving(web_app, "127.0.0.1", 0) as runner:
            assert runner is not None
            local = base_url(runner)
            link = await walk_to_the_link(bot, 4242, "en")
            url = local + "/" + link.split("/", 3)[3]
            page = await browser.new_page()
            response = await page.goto(url)
            assert response is not None
            assert response.status == 200
            assert await page.title() == "Create your password"
            assert await ticks(page) == dict.fromkeys(
                ["length", "upper", "lower", "common", "max", "match"], False
            )
            await page.type("#password", "zqx")
            assert await ticks(page) == {
                "length": False,
                "upper": False,
                "lower": True,
                "common": True,
                "max": True,
                "match": False,
            }
            await page.type("#password", "D-efgh")
            await page.fill("#confirm", "zqxD-efgh")
            assert all((await ticks(page)).values())
            await page.fill("#password", "Password")  # upper, lower, long enough, but common
            assert (await ticks(page))["common"] is False
            await page.click("#toggle")
            assert await page.get_attribute("#password", "type") == "text"
            await page.screenshot(path=str(ARTIFACTS / "password-page-en.png"), full_page=True)
            await page.click("#toggle")
            assert await page.get_attribute("#password", "type") == "password"

            assert await refused_rules(page, "Good-Horse-7", "Good-Horse-8") == [
                "Both entries match"
            ]
            assert await refused_rules(page, "lowercase-only") == ["An upper-case letter"]
            assert await refused_rules(page, "Short1") == ["At least 8 characters"]
            assert await refused_rules(page, "Password1") == [
                "Not a commonly used or example password"
            ]
            await page.screenshot(path=str(ARTIFACTS / "password-refused-en.png"), full_page=True)

            text = await submit(page, "Correct-Horse-Battery")
            assert "Your password is saved" in text
            messages = [m["text"] for m in bot.api.sent_messages(4242)]
            assert (
                messages[-2]
                == "Your password is set. This button opens the customer portal's login page."
            )
            assert messages[-1].startswith("Your account is active.")
            markup = bot.api.sent_messages(4242)[-2]["reply_markup"]
            assert markup["inline_keyboard"][0][0]["url"] == PORTAL

            match = await bot.app.records.match_customer(
                tax_scheme="bg_eik", tax_id="175074752", email="demo@example.com"
            )
            assert match is not None
            person = f"{bot.api.bot_id}:4242:4242"  # the account of this person (issue 17)
            account = await SqlAccounts(bot.app.db).get(match.customer_id, person)
            assert account is not None
            assert account.password_hash is not None
            assert account.password_hash.startswith("$argon2id$")
            assert SecretHasher().verify(account.password_hash, "Correct-Horse-Battery")

            again = await page.goto(url)  # the link worked once
            assert again is not None
            assert again.status == 410
            assert "send /start to get a new link" in await page.inner_text("main")

            # A second customer, in Bulgarian; the link expires after 30 minutes.
            link = await walk_to_the_link(bot, 5151, "bg")
            url = local + "/" + link.split("/", 3)[3]
            await page.goto(url)
            assert await page.title() == CATALOGS.gettext("Create your password", "bg")
            await page.type("#password", "Парола-дълга")
            await page.screenshot(path=str(ARTIFACTS / "password-page-bg.png"), full_page=True)
            clock.now += 30 * 60 + 1
            expired = await page.goto(url)
            assert expired is not None
            assert expired.status == 410
            await page.close()


async def test_the_kk_policy_names_each_rule_it_refuses(tmp_path: Path, browser: Browser) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, Clock()) as bed:
        page = await browser.new_page()
        await page.goto(bed.local(await bed.start("kk-policy", locale="kk")))
        await page.type("#password", "zqx")
        assert await ticks(page) == {
            "length": False,
            "upper": False,
            "lower": True,
            "digit": False,
            "symbol": False,
            "common": True,
            "max": True,
            "match": False,
        }
        await page.type("#password", "!")
        assert (await ticks(page))["symbol"] is True
        await page.fill("#password", "ДЖabcdef1!")  # Cyrillic capitals are not Latin ones
        assert (await ticks(page))["upper"] is False
        await page.fill("#password", "Ag-15!d44")  # the example on the client's help page
        assert (await ticks(page))["common"] is False

        def kk(msgid: str, **params: str | int) -> str:  # the page speaks Kazakh
            return render(Text(msgid, params), CATALOGS, "kk")

        assert await refused_rules(page, "ДЖabcdef1!") == [kk(passwords.RULE_UPPER_LATIN)]
        assert await refused_rules(page, "ABCDEFG1!") == [kk(passwords.RULE_LOWER_LATIN)]
        assert await refused_rules(page, "Abcdefgh!") == [kk(passwords.RULE_DIGIT)]
        assert await refused_rules(page, "Abcdefg12") == [
            kk(passwords.RULE_SYMBOL, symbols="! @ $ _ -")
        ]
        assert await refused_rules(page, "Ab1!") == [
            render(say_n(passwords.RULE_LENGTH, 8), CATALOGS, "kk")
        ]
        assert await refused_rules(page, "Ag-15!d44") == [kk(passwords.RULE_COMMON)]
        assert kk(passwords.RULE_DIGIT) != passwords.RULE_DIGIT  # really translated
        await page.screenshot(path=str(ARTIFACTS / "password-kk-refused.png"), full_page=True)
        assert kk(SAVED_TITLE) in await submit(page, "Steppe_Wind-2024")
        assert bed.lines[-1] == CATALOGS.gettext(FINISHED_TEXT, "kk")  # the chat, in Kazakh
        await page.close()


async def pin_page(bed: PageBed, browser: Browser) -> Page:
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    await page.goto(bed.local(await bed.start("pin-page")))
    return page


async def test_the_pin_page_copies_saves_a_pdf_and_needs_the_tick(
    tmp_path: Path, browser: Browser
) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, Clock()) as bed:
        page = await pin_page(bed, browser)
        assert await page.title() == "Set your service PIN"
        await page.fill("#pin", "123456")
        await page.click("#choose")
        assert "too easy to guess" in await page.inner_text("#errors")
        await page.fill("#pin", "12345")
        await page.click("#choose")
        assert "at least 6 digits" in await page.inner_text("#errors")

        await page.click("#generate")
        pin = (await page.inner_text("#pin-value")).strip()
        assert len(pin) == 6
        assert pin.isdigit()
        assert await page.is_disabled("#continue")
        await page.click("#copy")
        await page.wait_for_function("document.getElementById('copy').textContent === 'Copied'")
        assert await page.evaluate("navigator.clipboard.readText()") == pin

        async with page.expect_download() as info:
            await page.click("#pdf")
        download = await info.value
        assert download.suggested_filename == "service-pin.pdf"
        document = await asyncio.to_thread(Path(await download.path()).read_bytes)
        assert document.startswith(b"%PDF")
        assert f"{pin[:3]} {pin[3:]}".encode() in document
        await page.screenshot(path=str(ARTIFACTS / "pin-page-en.png"), full_page=True)

        await page.check("#stored")
        assert await page.is_enabled("#continue")
        await page.click("#continue")
        await page.wait_for_load_state()
        assert "Your service PIN is set" in await page.inner_text("main")
        assert bed.lines[-1].startswith("Your account is active.")

        accounts = SqlAccounts(bed.app.db)
        account = await accounts.get(None, "0:1:1")
        assert account is not None
        assert account.pin_hash is not None
        assert account.pin_hash.startswith("$argon2id$")
        assert account.pending_pin_hash is None
        await page.context.close()


async def test_the_pin_is_not_stored_without_the_tick(tmp_path: Path, browser: Browser) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url="https://portal.example.com/in")
    async with page_bed(settings, flows, Clock()) as bed:
        page = await pin_page(bed, browser)
        await page.fill("#pin", "40817263")
        await page.click("#choose")
        # Past the page's own checks (the tick is required and gates the button; the page's
        # script may re-disable the button at any moment): submit the form as a script would.
        async with page.expect_navigation():
            await page.evaluate("document.getElementById('continue').form.submit()")
        assert "Please confirm that you have stored your PIN safely." in await page.inner_text(
            "main"
        )
        account = await SqlAccounts(bed.app.db).get(None, "0:1:1")
        assert account is not None
        assert account.pin_hash is None
        assert (
            await SqlAccounts(bed.app.db).check_pin(1, "0:1:1", lambda _h: True, 0)
            is PinCheck.NO_PIN
        )
        await page.context.close()


async def test_a_hidden_username_lets_password_managers_save_the_account(
    tmp_path: Path, browser: Browser
) -> None:
    """Issue 19: the page carries the login (the e-mail the customer gave in the chat) in a
    hidden ``autocomplete=username`` field, so a password manager saves the pair; a flow that
    asks for no e-mail gets no such field. The field is not shown and not sent as a password."""
    settings = make_settings(tmp_path, portal_url=PORTAL)
    async with running_bot(settings, clock=Clock()) as bot:
        web_app = web_app_for(bot.app, bot.transport.push)
        async with serving(web_app, "127.0.0.1", 0) as runner:
            assert runner is not None
            link = await walk_to_the_link(bot, 4343, "bg")
            page = await browser.new_page()
            await page.goto(base_url(runner) + "/" + link.split("/", 3)[3])
            username = page.locator("input[autocomplete=username]")
            assert await username.count() == 1
            assert await username.input_value() == "demo@example.com"
            assert not await username.is_visible()
            assert await username.get_attribute("name") == "username"
            assert await username.evaluate("e => e.form && e.form.id") == "password-form"
            await page.close()
    flows = write_test_flows(tmp_path / "flows")
    (tmp_path / "bed").mkdir()
    bed_settings = make_settings(
        tmp_path / "bed", portal_handoff_url="https://portal.example.com/in"
    )
    async with page_bed(bed_settings, flows, Clock()) as bed:
        page = await browser.new_page()
        await page.goto(bed.local(await bed.start("kk-policy", user=5, locale="kk")))
        assert await page.locator("#password").count() == 1
        assert await page.locator("input[autocomplete=username]").count() == 0
        await page.close()
