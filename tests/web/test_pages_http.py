"""The hand-off pages over HTTP (no browser): headers, CSRF, rate limits, the policy from the
flow, and what is stored. The browser tests (test_browser.py) cover the same pages as a person
sees them."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from bot.web.pages.guard import PageLimits
from storage.accounts import SqlAccounts
from tests.conftest import make_settings
from tests.web.helpers import Clock, PageBed, page_bed, write_test_flows

PORTAL = "https://portal.example.com/welcome"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies from 127.0.0.1 (aiohttp refuses IP hosts by default)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def form_csrf(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        assert response.status == 200
        match = CSRF.search(await response.text())
    assert match is not None
    return match.group(1)


async def post(session: aiohttp.ClientSession, url: str, **form: str) -> tuple[int, str]:
    async with session.post(url, data=form) as response:
        return response.status, await response.text()


@pytest.fixture
async def bed(tmp_path: Path):  # type: ignore[no-untyped-def]
    flows = write_test_flows(tmp_path / "flows")
    limits = PageLimits(per_token=4, per_address=8, window=600)
    settings = make_settings(tmp_path, portal_handoff_url=PORTAL)
    async with page_bed(settings, flows, Clock(), limits) as bed:
        yield bed


async def test_security_headers_on_every_page(bed: PageBed) -> None:
    url = bed.local(await bed.start("kk-policy"))
    async with browser() as session:
        for path in (url, bed.base_url + "/password/forged", bed.base_url + "/nowhere"):
            async with session.get(path) as response:
                csp = response.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp
                assert "unsafe-inline" not in csp
                assert "frame-ancestors https://web.telegram.org" in csp  # Mini Apps only
                assert response.headers["Cache-Control"] == "no-store"
                assert response.headers["Referrer-Policy"] == "no-referrer"
        async with session.get(url) as response:
            page = await response.text()
    assert "<script>" not in page
    assert 'src="/static/password.js"' in page
    assert "style=" not in page


async def test_the_page_lists_the_flows_policy(bed: PageBed) -> None:
    url = bed.local(await bed.start("kk-policy"))
    async with browser() as session, session.get(url) as response:
        page = await response.text()
    rules = re.findall(r'data-rule="(\w+)"', page)
    assert rules == ["length", "upper", "lower", "digit", "symbol", "common", "max", "match"]
    assert "A Latin upper-case letter (A–Z)" in page
    assert "One of these characters: ! @ $ _ -" in page


async def test_a_form_without_its_csrf_value_is_refused(bed: PageBed) -> None:
    url = bed.local(await bed.start("kk-policy"))
    good = "Xy7_long-enough"
    async with browser() as session:
        await form_csrf(session, url)
        status, _ = await post(session, url, password=good, confirm=good)
        assert status == 403
        status, _ = await post(session, url, password=good, confirm=good, csrf="0" * 64)
        assert status == 403
    async with browser() as other:  # a value from another browser's cookie
        csrf = await form_csrf(other, url)
    async with browser() as session:
        await form_csrf(session, url)
        status, _ = await post(session, url, password=good, confirm=good, csrf=csrf)
        assert status == 403
    assert await SqlAccounts(bed.app.db).get(None, "0:1:1") is None


async def test_submissions_are_limited_per_token(bed: PageBed) -> None:
    url = bed.local(await bed.start("kk-policy"))
    async with browser() as session:
        csrf = await form_csrf(session, url)
        statuses = [
            (await post(session, url, password="short", confirm="short", csrf=csrf))[0]
            for _ in range(5)
        ]
    assert statuses == [422, 422, 422, 422, 429]


async def test_submissions_are_limited_per_address(bed: PageBed) -> None:
    statuses = []
    async with browser() as session:
        for user in range(1, 6):  # five links, two tries each: the address limit is 8
            url = bed.local(await bed.start("kk-policy", user=user))
            csrf = await form_csrf(session, url)
            for _ in range(2):
                statuses.append((await post(session, url, password="x", confirm="x", csrf=csrf))[0])
    assert statuses[:8] == [422] * 8
    assert statuses[8:] == [429, 429]


async def test_a_good_password_is_stored_as_argon2id_and_the_chat_is_told(bed: PageBed) -> None:
    url = bed.local(await bed.start("kk-policy"))
    password = "Quiet_Harbour-42" + "x" * 60  # long passwords are welcome (76 characters)
    async with browser() as session:
        csrf = await form_csrf(session, url)
        status, page = await post(session, url, password=password, confirm=password, csrf=csrf)
        assert status == 200
        assert "Your password is saved" in page
        status, page = await post(session, url, password=password, confirm=password, csrf=csrf)
        assert status == 410
        assert "This link has expired or has already been used" in page
    account = await SqlAccounts(bed.app.db).get(None, "0:1:1")
    assert account is not None
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")
    assert password not in account.password_hash
    assert bed.lines[-1].startswith("Your account is active.")


async def test_an_expired_link_gets_the_clear_page(tmp_path: Path) -> None:
    clock = Clock()
    flows = write_test_flows(tmp_path / "flows")
    async with page_bed(make_settings(tmp_path, portal_handoff_url=PORTAL), flows, clock) as bed:
        url = bed.local(await bed.start("kk-policy"))
        async with browser() as session:
            csrf = await form_csrf(session, url)
            clock.now += 30 * 60 + 1
            async with session.get(url) as response:
                assert response.status == 410
                assert "send /start to get a new link" in await response.text()
            status, _ = await post(
                session, url, password="Xy7_abcdef", confirm="Xy7_abcdef", csrf=csrf
            )
            assert status == 410


async def test_the_link_lifetime_comes_from_the_settings(tmp_path: Path) -> None:
    clock = Clock()
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, password_link_ttl_minutes=5, portal_handoff_url=PORTAL)
    async with page_bed(settings, flows, clock) as bed:
        url = bed.local(await bed.start("kk-policy"))
        assert "for 5 minutes" in "\n".join(bed.lines)
        clock.now += 5 * 60 - 1
        async with browser() as session:
            async with session.get(url) as response:
                assert response.status == 200
            clock.now += 2
            async with session.get(url) as response:
                assert response.status == 410


async def test_a_link_of_an_abandoned_conversation_no_longer_opens(bed: PageBed) -> None:
    url = bed.local(await bed.start("kk-policy"))
    await bed.start("pin-page")  # the same conversation moved on to another flow
    async with browser() as session, session.get(url) as response:
        assert response.status == 410
