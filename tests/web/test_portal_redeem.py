"""The company portal's redeem endpoint over HTTP: secret, single use, expiry, and the chat."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp

from bot.web.pages.guard import PageLimits
from tests.conftest import make_settings
from tests.web.helpers import FINISHED_TEXT, Clock, page_bed, write_test_flows

SECRET = "portal-shared-secret-0123456789"
PORTAL = "https://portal.example.com/welcome?from=bot"


async def redeem(base: str, token: str, secret: str | None = SECRET) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/handoff/redeem", json={"token": token}, headers=headers) as reply,
    ):
        return reply.status, await reply.json()


def token_of(link: str) -> str:
    assert link.startswith("https://portal.example.com/welcome?from=bot&token=")
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_the_portal_redeems_a_token_once(tmp_path: Path) -> None:
    clock = Clock()
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url=PORTAL, portal_handoff_secret=SECRET)
    async with page_bed(settings, flows, clock) as bed:
        token = token_of(await bed.start("portal-hand-off"))
        assert await redeem(bed.base_url, token, "wrong-secret") == (401, {"error": "unauthorized"})
        assert (await redeem(bed.base_url, token, None))[0] == 401
        assert (await redeem(bed.base_url, token, SECRET + "x"))[0] == 401
        status, body = await redeem(bed.base_url, token)
        assert status == 200
        assert body == {"customer": None, "purpose": "password", "locale": "en"}
        assert bed.lines[-1] == FINISHED_TEXT  # the chat moved on
        assert await redeem(bed.base_url, token) == (410, {"error": "invalid_token"})

        expired = token_of(await bed.start("portal-hand-off", user=2))
        clock.now += 30 * 60 + 1
        assert await redeem(bed.base_url, expired) == (410, {"error": "invalid_token"})
        assert await redeem(bed.base_url, "never-issued") == (410, {"error": "invalid_token"})
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{bed.base_url}/handoff/redeem",
                data=b"not json",
                headers={"Authorization": f"Bearer {SECRET}"},
            ) as reply,
        ):
            assert reply.status == 400


async def test_a_page_token_cannot_be_redeemed_and_a_portal_token_opens_no_page(
    tmp_path: Path,
) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url=PORTAL, portal_handoff_secret=SECRET)
    async with page_bed(settings, flows, Clock()) as bed:
        page_link = await bed.start("kk-policy")
        page_token = page_link.rsplit("/", 1)[1]
        assert await redeem(bed.base_url, page_token) == (410, {"error": "invalid_token"})
        portal_token = token_of(await bed.start("portal-hand-off", user=2))
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{bed.base_url}/password/{portal_token}") as reply,
        ):
            assert reply.status == 410
        assert (await redeem(bed.base_url, portal_token))[0] == 200


async def test_redeem_calls_are_limited_per_address(tmp_path: Path) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url=PORTAL, portal_handoff_secret=SECRET)
    limits = PageLimits(per_token=3, per_address=3, window=600)
    async with page_bed(settings, flows, Clock(), limits) as bed:
        statuses = [(await redeem(bed.base_url, "guess", "guess"))[0] for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_without_a_secret_there_is_no_redeem_endpoint(tmp_path: Path) -> None:
    flows = write_test_flows(tmp_path / "flows")
    settings = make_settings(tmp_path, portal_handoff_url=PORTAL)
    async with (
        page_bed(settings, flows, Clock()) as bed,
        aiohttp.ClientSession() as session,
        session.post(f"{bed.base_url}/handoff/redeem", json={"token": "x"}) as reply,
    ):
        assert reply.status == 404
