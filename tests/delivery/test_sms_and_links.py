"""SMS codes through an HTTP gateway on loopback, invitation deep links and e-mail verification
links, with test flows in a temporary directory (the de/kk/pl flows come later)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.outbox import DELIVERY_FAILED
from bot.web import links
from bot.web.links import add_link_routes, issue_invitation
from bot.web.server import create_web_app
from dialogs.events import ConversationKey, Event
from dialogs.steps import code as code_step
from dialogs.steps import link as link_step
from storage.invitations import SqlInvitations
from tests.bot.harness import RunningBot
from tests.bot.test_bg_flow_telegram import t
from tests.conftest import make_settings
from tests.delivery.harness import Clock, delivering_bot
from tests.delivery.servers import Mailbox, SmsGateway, sms_gateway, smtp_server

FLOWS = {
    "sms-test": """
        id: sms-test
        language: en
        title: "SMS test"
        start: phone
        steps:
          phone:
            kind: phone
            text: "Your mobile number?"
            region: BG
            next: code
          code:
            kind: code
            channel: sms
            to: phone
            change: phone
            next: done
          done:
            kind: end
            text: "Phone confirmed."
    """,
    "invite-test": """
        id: invite-test
        language: en
        title: "Invitation test"
        start: gate
        steps:
          gate:
            kind: invitation
            next: email
          email:
            kind: ask
            text: "Your e-mail address?"
            validate: email
            next: verify
          verify:
            kind: email_link
            to: email
            change: email
            next: done
          done:
            kind: end
            text: "Your e-mail address is confirmed."
    """,
}
DAY = 86_400
URL = re.compile(r"https://onboard\.example\.com(/verify/[A-Za-z0-9_-]+)")


def write_flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name, text in FLOWS.items():
        (flows / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return flows


@asynccontextmanager
async def bot_with(
    tmp_path: Path, clock: Clock, default_flow: str, **settings: object
) -> AsyncIterator[RunningBot]:
    config = make_settings(tmp_path, default_flow=default_flow, **settings)
    flows = write_flows(tmp_path)
    async with delivering_bot(config, clock, flows_dir=flows, tmp_path=tmp_path) as bot:
        yield bot


async def test_sms_code_through_the_http_gateway_with_a_retry(tmp_path: Path) -> None:
    clock = Clock()
    async with sms_gateway(SmsGateway(failing=1)) as gateway:
        settings = {"sms_gateway_url": gateway.url, "sms_gateway_token": gateway.token}
        async with bot_with(tmp_path, clock, "sms-test", **settings) as bot:
            alice = bot.customer()
            assert await alice.send("/start") == ["Your mobile number?"]
            replies = await alice.send("088 123 4567")
            assert "8-digit code to +359 88 123 4567" in replies[-1]
            await bot.app.effects.courier.drain()
            (sms,) = gateway.received  # the first try got a 503 and was retried
            assert sms["to"] == "+359881234567"
            code = gateway.code()
            assert len(code) == 8
            assert "http" not in sms["text"]
            clock.now += 599
            assert await alice.send(code) == ["Phone confirmed."]  # accepted at 599 s


async def test_sms_code_refused_at_600_seconds_and_gateway_down_is_told(tmp_path: Path) -> None:
    clock = Clock()
    async with sms_gateway(SmsGateway(token="another")) as gateway:
        settings = {"sms_gateway_url": gateway.url, "sms_gateway_token": "wrong"}
        async with bot_with(tmp_path, clock, "sms-test", **settings) as bot:
            alice = bot.customer()
            await alice.send("/start")
            replies = await alice.send("+359 88 123 4567")
            assert replies[-1] == t(DELIVERY_FAILED, "en")  # 401 on every try: told
            assert gateway.received == []
            clock.now += 600
            assert await alice.send("12345678") == [t(code_step.EXPIRED, "en")]


async def test_invitation_links_single_use_expiry_and_unknown(tmp_path: Path) -> None:
    clock = Clock()
    async with bot_with(tmp_path, clock, "invite-test") as bot:
        invitations = SqlInvitations(bot.app.db)
        token = await issue_invitation(
            invitations, flow="invite-test", customer_id=None, locale="en", now=clock()
        )
        assert len(token) >= 22  # at least 128 bits, deep-link safe
        alice, bob, carol = (bot.customer(user_id=n) for n in (1, 2, 3))

        assert await bob.send("/start invite-test") == [t(link_step.INVITATION_ONLY, "en")]
        assert await alice.send(f"/start {token}") == ["Your e-mail address?"]
        assert await alice.send(f"/start {token}") == [
            t("Welcome back! Let us continue where you left off.", "en"),
            "Your e-mail address?",
        ]  # the same person again: resume, no error
        assert await bob.send(f"/start {token}") == [t(links.INVITATION_USED, "en")]
        assert await carol.send(f"/start {'x' * 32}") == [t(links.INVITATION_UNKNOWN, "en")]

        late = await issue_invitation(
            invitations, flow="invite-test", customer_id=None, locale="en", now=clock()
        )
        clock.now += 14 * DAY + 1
        assert await carol.send(f"/start {late}") == [t(links.INVITATION_EXPIRED, "en")]


async def test_invitation_valid_just_before_fourteen_days(tmp_path: Path) -> None:
    clock = Clock()
    async with bot_with(tmp_path, clock, "invite-test") as bot:
        token = await issue_invitation(
            SqlInvitations(bot.app.db),
            flow="invite-test",
            customer_id=None,
            locale="en",
            now=clock(),
        )
        clock.now += 14 * DAY - 1
        assert await bot.customer().send(f"/start {token}") == ["Your e-mail address?"]


async def test_verification_link_continues_the_same_conversation(tmp_path: Path) -> None:
    clock = Clock()
    async with (
        smtp_server(Mailbox()) as mailbox,
        bot_with(
            tmp_path,
            clock,
            "invite-test",
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_security="none",
        ) as bot,
    ):
        token = await issue_invitation(
            SqlInvitations(bot.app.db),
            flow="invite-test",
            customer_id=None,
            locale="en",
            now=clock(),
        )
        alice = bot.customer()
        await alice.send(f"/start {token}")
        replies = await alice.send("alice@example.com")
        assert replies == [t(link_step.LINK_PROMPT, "en", address="alice@example.com")]
        assert await alice.send("123456") == [t(link_step.OPEN_THE_LINK, "en")]
        await bot.app.effects.courier.drain()
        first = URL.search(mailbox.parts()[0])
        assert first is not None
        assert mailbox.mails[0]["Subject"] == t(link_step.LINK_SUBJECT, "en")

        clock.now += 60
        await alice.press(t(link_step.RESEND_LINK, "en"))
        await bot.app.effects.courier.drain()
        newest = URL.search(mailbox.parts()[-1])
        assert newest is not None
        assert newest.group(1) != first.group(1)

        web_app = create_web_app(bot.app.records, bot.app.catalogs, bot.app.clock)
        add_link_routes(
            web_app, bot.app.records, bot.app.catalogs, bot.app.clock, bot.transport.push
        )
        async with TestClient(TestServer(web_app)) as client:
            old = await client.get(first.group(1))  # an older link: refused in the chat
            assert old.status == 200
            assert alice.read_new()[0] == t(link_step.OLD_LINK, "en")

            page = await client.get(newest.group(1))
            assert page.status == 200
            assert page.headers["Cache-Control"] == "no-store"
            assert t(links.VERIFIED, "en") in await page.text()
            assert alice.read_new() == ["Your e-mail address is confirmed."]

            again = await client.get(newest.group(1))
            assert again.status == 410
            assert t(links.VERIFY_USED, "en") in await again.text()
            unknown = await client.get("/verify/" + "y" * 32)
            assert unknown.status == 404
            assert t(links.VERIFY_UNKNOWN, "en") in await unknown.text()


async def test_an_expired_verification_link_says_so(tmp_path: Path) -> None:
    clock = Clock()
    async with bot_with(tmp_path, clock, "invite-test") as bot:
        token = link_step.new_token()
        await bot.app.records.store_token(
            token_hash=link_step.token_hash(token),
            purpose=link_step.VERIFY_PATH,
            key=_key(),
            customer_id=None,
            locale="en",
            expires_at=clock() + DAY,
        )
        clock.now += DAY
        web_app = create_web_app(bot.app.records, bot.app.catalogs, bot.app.clock)
        add_link_routes(web_app, bot.app.records, bot.app.catalogs, bot.app.clock, _never)
        async with TestClient(TestServer(web_app)) as client:
            page = await client.get(f"/verify/{token}")
            assert page.status == 410
            assert t(links.VERIFY_EXPIRED, "en") in await page.text()


def _key() -> ConversationKey:
    return ConversationKey(1, 2, 2)


async def _never(event: Event) -> None:
    raise AssertionError(f"an expired link must not signal: {event}")
