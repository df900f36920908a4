"""The de reference flow (seed 003), end to end through the Telegram transport, state in Redis:
invitation deep links, both product editions, the password and service-PIN pages over HTTP,
SMS 2FA through an HTTP gateway on loopback, and the guests' access-code path.

Texts are compared through the bot's own catalogs, so each test holds in German and English.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.web import links
from bot.web.links import issue_invitation
from bot.web.server import web_app_for
from dialogs import durations
from dialogs.effects import SaveProfile
from dialogs.engine import NEED_HELP
from dialogs.events import ConversationKey
from dialogs.flow import FLOWS_DIR, load_flow
from dialogs.i18n import DEFAULT_LOCALES_DIR, Catalogs
from dialogs.navigation import NOTHING_BEFORE, PREVIOUS_ANSWER
from dialogs.render import render
from dialogs.replies import Param, Text
from dialogs.steps import code as code_step
from dialogs.steps import guest as guest_step
from dialogs.steps import profile as profile_step
from dialogs.steps.handoff import OPEN
from dialogs.steps.phone import GOT_IT
from storage.invitations import SqlInvitations
from storage.models import AccountRow, ProfileRow
from storage.profiles import SqlGuestCodes, SqlProfiles
from tests.bot.harness import Customer, RunningBot, running_bot
from tests.conftest import make_settings
from tests.delivery.harness import Clock
from tests.delivery.servers import SmsGateway, sms_gateway
from tests.notice import notice_text

FLOW = load_flow(FLOWS_DIR / "de-video-consultation.yaml")
GUEST = load_flow(FLOWS_DIR / "de-video-guest.yaml")
DAY = 86_400
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
SHOWN_PIN = re.compile(r'id="pin-value">(\d+)<')
PASSWORD = "Quiet-Harbour-42x"
LOCALES = ["de", "en"]


def text_of(flow_step: str, field: str = "text", flow: object = FLOW) -> str:
    step = flow.steps[flow_step]  # type: ignore[attr-defined]
    return str(getattr(step.options, field))


def locales_for_all_flows(tmp_path: Path) -> Path:
    """The real catalogs, plus any flow text not yet in the template (until the maintainers
    run ``onboard locales extract``, the loader would refuse new flows)."""
    target = tmp_path / "locales"
    shutil.copytree(DEFAULT_LOCALES_DIR, target)
    known = Catalogs(target).template_ids
    texts = {m for path in FLOWS_DIR.glob("*.yaml") for m in load_flow(path).messages()}
    missing = sorted(texts - known)
    entries = "".join(f'\nmsgid {_po(text)}\nmsgstr ""\n' for text in missing)
    with (target / "messages.pot").open("a", encoding="utf-8") as pot:
        pot.write(entries)
    return target


def _po(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class De:
    """The bot with the de flows, the SMS gateway and the pages; ``t`` renders like the bot."""

    def __init__(self, bot: RunningBot, gateway: SmsGateway, clock: Clock, web: TestClient) -> None:
        self.bot, self.gateway, self.clock, self.web = bot, gateway, clock, web

    def t(self, msgid: str, locale: str, **params: Param) -> str:
        escape = lambda value: html.escape(value, quote=False)  # noqa: E731
        return render(Text(msgid, params), self.bot.app.catalogs, locale, escape)

    def tn(self, forms: tuple[str, str], count: int, locale: str, **params: str | int) -> str:
        escape = lambda value: html.escape(value, quote=False)  # noqa: E731
        text = Text(forms[0], {"count": count, **params}, plural=forms[1], count=count)
        return render(text, self.bot.app.catalogs, locale, escape)

    async def invite(self, locale: str, edition: str | None, customer: int | None = None) -> str:
        return await issue_invitation(
            SqlInvitations(self.bot.app.db),
            flow=FLOW.id,
            customer_id=customer,
            locale=locale,
            now=self.clock(),
            edition=edition,
        )

    async def set_password(self, customer: Customer) -> list[str]:
        path = customer.link().removeprefix("https://onboard.example.com")
        assert path.startswith("/password/")
        csrf = await self._csrf(path)
        response = await self.web.post(
            path, data={"password": PASSWORD, "confirm": PASSWORD, "csrf": csrf}
        )
        assert response.status == 200, await response.text()
        return customer.read_new()

    async def set_pin(self, customer: Customer) -> list[str]:
        path = customer.link().removeprefix("https://onboard.example.com")
        assert path.startswith("/pin/")
        csrf = await self._csrf(path)
        shown = await self.web.post(path, data={"csrf": csrf, "action": "generate"})
        match = SHOWN_PIN.search(await shown.text())
        assert match is not None
        form = {"csrf": csrf, "pin": match.group(1)}
        unticked = await self.web.post(f"{path}/confirm", data=form)
        assert unticked.status == 422  # "I have stored my PIN safely" is required
        assert customer.read_new() == []
        done = await self.web.post(f"{path}/confirm", data={**form, "stored": "yes"})
        assert done.status == 200
        return customer.read_new()

    async def _csrf(self, path: str) -> str:
        page = await self.web.get(path)
        assert page.status == 200
        match = CSRF.search(await page.text())
        assert match is not None
        return match.group(1)

    async def sms_code(self) -> str:
        await self.bot.app.effects.courier.drain()
        return self.gateway.code()


@asynccontextmanager
async def de_bot(tmp_path: Path, redis_url: str | None, **extra: Any) -> AsyncIterator[De]:
    clock = Clock()
    async with sms_gateway(SmsGateway()) as gateway:
        settings = make_settings(
            tmp_path,
            redis_url=redis_url,
            sms_gateway_url=gateway.url,
            sms_gateway_token=gateway.token,
            **extra,
        )
        async with running_bot(
            settings,
            clock=clock,
            real_delivery=True,
            retry_delays=(0.01, 0.01),
            locales_dir=locales_for_all_flows(tmp_path),
        ) as bot:
            web_app = web_app_for(bot.app, bot.transport.push)
            async with TestClient(TestServer(web_app)) as web:
                yield De(bot, gateway, clock, web)


async def count(de: De, table: type[AccountRow] | type[ProfileRow]) -> int:
    async with de.bot.app.db.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def take_name(de: De, name: str) -> None:
    """Someone else (another conversation) registered ``name`` earlier."""
    other = ConversationKey(9, 9, 9)
    saved = SaveProfile(other, None, name, "practice", None, False, de.clock())
    assert await SqlProfiles(de.bot.app.db).save_profile(saved)


async def choose_username(de: De, alice: Customer, locale: str, token: str) -> None:
    limits = {"min": 4, "max": 30}
    assert await alice.send(f"/start {token}") == [
        notice_text(locale),
        de.t(text_of("username"), locale, **limits),
    ]
    assert await alice.send("/back") == [
        de.t(NOTHING_BEFORE, locale),
        de.t(text_of("username"), locale, **limits),
    ]  # never back to the invitation gate
    await take_name(de, "drweber")
    invalid = de.t(profile_step.USERNAME_INVALID, locale, **limits)
    assert await alice.send("1weber") == [invalid]
    assert await alice.send("dr weber") == [invalid]
    assert await alice.send("DrWeber") == [
        de.t(profile_step.USERNAME_TAKEN, locale, username="drweber"),
        de.t(NEED_HELP, locale),  # the third try at one question: /human is offered
    ]


@pytest.mark.parametrize("locale", LOCALES)
async def test_practice_edition_with_sms_two_factor(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        alice = de.bot.customer(user_id=501, language_code=locale)
        await choose_username(de, alice, locale, await de.invite(locale, "practice"))

        assert await alice.send("Dr.Mueller") == [
            de.t(text_of("password"), locale, minutes=durations.minutes(30))
        ]
        assert [b["text"] for b in alice.keyboard] == [de.t(OPEN, locale)]
        assert await de.set_password(alice) == [
            de.t(text_of("pin"), locale, minutes=durations.minutes(30))
        ]
        assert [b["text"] for b in alice.keyboard] == [de.t(text_of("pin", "button"), locale)]
        assert await de.set_pin(alice) == [de.t(text_of("two_factor"), locale)]

        activate = de.t(text_of("two_factor", "yes_label"), locale)
        assert await alice.press(activate) == [de.t(text_of("phone"), locale)]
        typo = "+49 151 23456788"
        assert await alice.send(typo) == [
            de.t(GOT_IT, locale, phone="+49 1512 3456788"),
            de.t(text_of("sms"), locale, length=8, address="+49 1512 3456788"),
        ]
        first = await de.sms_code()
        assert len(first) == 8
        assert de.gateway.received[-1]["to"] == "+4915123456788"

        # A typo in the number: /back, fix it, then a new code — not before 60 s.
        assert await alice.send("/back") == [
            de.t(PREVIOUS_ANSWER, locale, answer="+49 1512 3456788"),
            de.t(text_of("phone"), locale),
        ]
        assert await alice.send("0151 23456789") == [
            de.t(GOT_IT, locale, phone="+49 1512 3456789"),
            # the code to the typo is dead; a new one in 60 s, by a press
            de.tn(code_step.WAIT_CHANGED, 60, locale, address="+49 1512 3456789"),
        ]
        resend = de.t(code_step.RESEND, locale)
        de.clock.now += 59
        assert await alice.press(resend) == [de.tn(code_step.WAIT, 1, locale)]
        de.clock.now += 1
        assert await alice.press(resend) == [
            de.t(code_step.RESENT, locale, address="+49 1512 3456789")
        ]
        code = await de.sms_code()
        assert de.gateway.received[-1]["to"] == "+4915123456789"
        assert len(de.gateway.received) == 2

        wrong = "00000000" if code != "00000000" else "11111111"
        assert await alice.send(wrong) == [de.tn(code_step.WRONG, 4, locale)]
        assert await alice.send(code) == [de.t(text_of("visibility"), locale)]
        visible = de.t(text_of("visibility", "yes_label"), locale)
        assert await alice.press(visible) == [de.t(text_of("finished"), locale)]

        profile = await SqlProfiles(de.bot.app.db).get_profile("dr.mueller")
        assert profile is not None
        assert (profile.edition, profile.two_factor_phone, profile.visible) == (
            "practice",
            "+4915123456789",
            True,
        )
        assert await count(de, AccountRow) == 1  # password and PIN, hashed


@pytest.mark.parametrize("locale", LOCALES)
async def test_practice_edition_activate_two_factor_later(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        alice = de.bot.customer(user_id=502, language_code=locale)
        assert await alice.send(f"/start {await de.invite(locale, 'practice')}")
        assert await alice.send("anna_schmidt") == [
            de.t(text_of("password"), locale, minutes=durations.minutes(30))
        ]
        await de.set_password(alice)
        assert await de.set_pin(alice) == [de.t(text_of("two_factor"), locale)]
        later = de.t(text_of("two_factor", "no_label"), locale)
        assert await alice.press(later) == [de.t(text_of("visibility"), locale)]
        hidden = de.t(text_of("visibility", "no_label"), locale)
        assert await alice.press(hidden) == [de.t(text_of("finished"), locale)]
        assert de.gateway.received == []  # no SMS at all

        profile = await SqlProfiles(de.bot.app.db).get_profile("anna_schmidt")
        assert profile is not None
        assert (profile.two_factor_phone, profile.visible) == (None, False)


@pytest.mark.parametrize("locale", LOCALES)
async def test_solo_edition_reorders_and_leaves_out_steps(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        alice = de.bot.customer(user_id=503, language_code=locale)
        await choose_username(de, alice, locale, await de.invite(locale, "solo"))
        assert await alice.send("praxis-lang") == [de.t(text_of("visibility"), locale)]
        hidden = de.t(text_of("visibility", "no_label"), locale)
        assert await alice.press(hidden) == [
            de.t(text_of("password"), locale, minutes=durations.minutes(30))
        ]
        assert await de.set_password(alice) == [de.t(text_of("finished"), locale)]

        profile = await SqlProfiles(de.bot.app.db).get_profile("praxis-lang")
        assert profile is not None
        assert (profile.edition, profile.two_factor_phone, profile.visible) == ("solo", None, False)


async def test_the_contract_edition_in_the_crm_decides_without_one_on_the_invitation(
    tmp_path: Path, app_redis: str
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        crm = tmp_path / "crm.yaml"
        crm.write_text(
            "customers:\n"
            "  - tax_id: '121005553'\n"
            "    scheme: bg_eik\n"
            "    name: Praxis Lang\n"
            "    contracts:\n"
            "      - {number: VS-1001, product: Video consultation, edition: solo}\n",
            encoding="utf-8",
        )
        from storage.crm_import import load_crm

        assert (await load_crm(de.bot.app.db, crm)).errors == []
        customer = await SqlInvitations(de.bot.app.db).customer_by_tax_id("bg_eik", "121005553")
        alice = de.bot.customer(user_id=504, language_code="de")
        await alice.send(f"/start {await de.invite('de', None, customer)}")
        assert await alice.send("praxis.lang") == [de.t(text_of("visibility"), "de")]


@pytest.mark.parametrize("locale", LOCALES)
async def test_invitation_refusals(tmp_path: Path, app_redis: str, locale: str) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        alice, bob, carol = (de.bot.customer(user_id=n, language_code=locale) for n in (7, 8, 9))
        gate = de.t(text_of("invitation"), locale)
        assert await bob.send(f"/start {FLOW.id}") == [gate]  # no invitation: refused
        assert await bob.send("hello") == [gate]

        token = await de.invite(locale, "practice")
        late = await de.invite(locale, "practice")
        assert await alice.send(f"/start {token}")
        assert await bob.send(f"/start {token}") == [de.t(links.INVITATION_USED, locale)]
        unknown = "Zq" * 16
        assert await carol.send(f"/start {unknown}") == [de.t(links.INVITATION_UNKNOWN, locale)]

        de.clock.now += 14 * DAY + 1
        assert await carol.send(f"/start {late}") == [de.t(links.INVITATION_EXPIRED, locale)]
        assert await count(de, ProfileRow) == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_guests_join_with_an_access_code_and_get_no_account(
    tmp_path: Path, app_redis: str, locale: str
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        codes = SqlGuestCodes(de.bot.app.db)
        join = "https://video.example.com/room/42"
        session = "Dr. Weber <Praxis>, 10:30"
        code = await codes.issue_access_code(
            session=session, join_url=join, now=de.clock(), ttl_seconds=3600
        )
        old = await codes.issue_access_code(
            session=session, join_url=join, now=de.clock() - 7200, ttl_seconds=3600
        )
        guest = de.bot.customer(user_id=601, language_code=locale)
        prompt = de.t(text_of("code", flow=GUEST), locale)
        assert await guest.send(f"/start {GUEST.id}") == [prompt]
        assert await guest.send("ABCDE-FGHJK") == [de.t(guest_step.CODE_UNKNOWN, locale)]
        assert await guest.send(old) == [de.t(guest_step.CODE_EXPIRED, locale)]

        typed = " ".join(code.lower().replace("-", ""))  # spaces and case do not matter
        assert await guest.send(typed) == [
            de.t(text_of("code", "granted", GUEST), locale, session=session),
            de.t(text_of("finished", flow=GUEST), locale),
        ]
        assert "&lt;Praxis&gt;" in guest.api.sent_messages(601)[-2]["text"]  # escaped
        links_ = [b for b in guest.keyboard if "url" in b]
        assert [(b["text"], b["url"]) for b in links_] == [(de.t(guest_step.JOIN, locale), join)]
        assert await count(de, AccountRow) == 0
        assert await count(de, ProfileRow) == 0


async def test_guessing_access_codes_is_throttled_even_across_cancel(
    tmp_path: Path, app_redis: str
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        code = await SqlGuestCodes(de.bot.app.db).issue_access_code(
            session="Sprechstunde",
            join_url="https://video.example.com/r/1",
            now=de.clock(),
            ttl_seconds=3600,
        )
        guest = de.bot.customer(user_id=602, language_code="de")
        await guest.send(f"/start {GUEST.id}")
        for guess in range(4):
            await guest.send(f"ABCDE{guess:05d}")
        await guest.send("/cancel")  # starting over does not reset the count
        await guest.send(f"/start {GUEST.id}")
        assert await guest.send("ABCDE00004") == [de.t(guest_step.CODE_UNKNOWN, "de")]
        too_many = [de.t(guest_step.TOO_MANY_TRIES, "de", minutes=durations.minutes(15))]
        assert await guest.send(code) == too_many  # even the right one, for now
        de.clock.now += 15 * 60
        assert (await guest.send(code))[0] == de.t(
            text_of("code", "granted", GUEST), "de", session="Sprechstunde"
        )


async def test_two_registrations_racing_for_one_name(tmp_path: Path, app_redis: str) -> None:
    """Both chose the free name; the one who finishes second is told, nothing is overwritten."""
    async with de_bot(tmp_path, app_redis) as de:
        alice = de.bot.customer(user_id=701, language_code="en")
        await alice.send(f"/start {await de.invite('en', 'solo')}")
        await alice.send("samename")
        await take_name(de, "samename")
        await alice.press(de.t(text_of("visibility", "yes_label"), "en"))
        assert await de.set_password(alice) == [
            de.t(text_of("finished"), "en"),
            de.t(profile_step.USERNAME_LOST, "en", username="samename"),
        ]
        profile = await SqlProfiles(de.bot.app.db).get_profile("samename")
        assert profile is not None
        assert profile.visible is False  # the earlier registration's
