"""Behind a load balancer: the pages' throttles count per client, read from X-Forwarded-For
only when the peer is a trusted proxy (``FORWARDED_ALLOW_IPS``), and in Redis when
``REDIS_URL`` is set. Real HTTP requests to the pages served on loopback."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.config import load_settings
from bot.web.forwarded import client_address, parse_networks
from bot.web.pages.guard import PageLimits
from dialogs.errors import ConfigError
from storage.models import SendLimitRow
from tests.conftest import make_settings
from tests.web.helpers import Clock, PageBed, page_bed, write_test_flows
from tests.web.test_pages_http import PORTAL, browser, form_csrf

pytestmark = pytest.mark.cluster
LIMITS = PageLimits(per_token=4, per_address=8, window=600)
PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1, ::1")


def test_the_client_is_the_rightmost_untrusted_hop() -> None:
    assert client_address("127.0.0.1", ["203.0.113.7"], PROXIES) == "203.0.113.7"
    spoofed = ["6.6.6.6, 203.0.113.7, 10.1.2.3"]  # the client wrote 6.6.6.6 itself
    assert client_address("127.0.0.1", spoofed, PROXIES) == "203.0.113.7"
    assert client_address("127.0.0.1", ["6.6.6.6", "203.0.113.7"], PROXIES) == "203.0.113.7"
    assert client_address("198.51.100.1", ["203.0.113.7"], PROXIES) == "198.51.100.1"
    assert client_address("127.0.0.1", [], PROXIES) == "127.0.0.1"
    assert client_address("127.0.0.1", ["10.0.0.1"], PROXIES) == "10.0.0.1"  # all proxies
    assert client_address("127.0.0.1", ["203.0.113.7"], ()) == "127.0.0.1"  # none trusted
    assert client_address("127.0.0.1", ["garbage"], PROXIES) == "garbage"


@pytest.mark.cli
def test_a_wrong_proxy_entry_is_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, forwarded_allow_ips="10.0.0.0/8, 10.0.0.0/33")
    assert str(raised.value) == (
        "FORWARDED_ALLOW_IPS must be IP addresses or networks separated by commas"
        " (not '10.0.0.0/33'), got '10.0.0.0/8, 10.0.0.0/33'"
    )


async def _tries(bed: PageBed, session: aiohttp.ClientSession, clients: list[str]) -> list[int]:
    """Two submissions per link, one link per entry of ``clients`` (its X-Forwarded-For)."""
    statuses = []
    for user, client in enumerate(clients, start=1):
        url = bed.local(await bed.start("kk-policy", user=user))
        csrf = await form_csrf(session, url)
        form = {"password": "x", "confirm": "x", "csrf": csrf}
        for _ in range(2):
            headers = {"X-Forwarded-For": client}
            async with session.post(url, data=form, headers=headers) as response:
                statuses.append(response.status)
    return statuses


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    tmp_path: Path, app_redis: str
) -> None:
    settings = make_settings(
        tmp_path, redis_url=app_redis, forwarded_allow_ips="127.0.0.1", portal_handoff_url=PORTAL
    )
    flows = write_test_flows(tmp_path / "flows")
    async with page_bed(settings, flows, Clock(), LIMITS) as bed, browser() as session:
        five_clients = [f"203.0.113.{n}" for n in range(1, 6)]
        assert await _tries(bed, session, five_clients) == [422] * 10
        one_client = ["6.6.6.6, 198.51.100.9"] * 5  # what the client claims is not believed
        statuses = await _tries(bed, session, one_client)
        async with bed.app.db.connect() as connection:
            sql_rows = await connection.scalar(select(func.count()).select_from(SendLimitRow))
    assert statuses == [422] * 8 + [429, 429]
    redis = Redis.from_url(app_redis)
    try:
        counters = [key async for key in redis.scan_iter(match="ob:limit:web:*")]
    finally:
        await redis.aclose()
    assert len([k for k in counters if b":addr:" in k]) == 6  # five clients and the sixth
    assert len([k for k in counters if b":token:" in k]) == 10
    assert sql_rows == 0  # with Redis configured the pages count there, not in SQL


async def test_an_untrusted_peer_cannot_spread_its_tries_over_invented_addresses(
    tmp_path: Path,
) -> None:
    settings = make_settings(  # the peer is not trusted
        tmp_path, forwarded_allow_ips="10.0.0.0/8", portal_handoff_url=PORTAL
    )
    flows = write_test_flows(tmp_path / "flows")
    async with page_bed(settings, flows, Clock(), LIMITS) as bed, browser() as session:
        statuses = await _tries(bed, session, [f"203.0.113.{n}" for n in range(1, 6)])
        async with bed.app.db.connect() as connection:
            sql_rows = await connection.scalar(select(func.count()).select_from(SendLimitRow))
    assert statuses == [422] * 8 + [429, 429]
    assert sql_rows == 6  # without Redis: in SQL (5 tokens + 1 address)


async def test_the_cookie_is_secure_when_a_trusted_proxy_ended_tls(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, forwarded_allow_ips="127.0.0.1", portal_handoff_url=PORTAL)
    flows = write_test_flows(tmp_path / "flows")
    async with page_bed(settings, flows, Clock(), LIMITS) as bed, browser() as session:
        url = bed.local(await bed.start("kk-policy"))
        cookies = []
        for proto in ("https", "http", "http, https", "https, http"):
            headers = {"X-Forwarded-Proto": proto}
            async with session.get(url, headers=headers) as response:
                cookies.append(response.headers["Set-Cookie"])
    assert ["Secure" in cookie for cookie in cookies] == [True, False, True, True]
    assert all("HttpOnly" in c and "SameSite=Strict" in c and "Path=/" in c for c in cookies)


async def test_an_untrusted_peer_cannot_claim_https(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, portal_handoff_url=PORTAL)  # no proxies trusted
    flows = write_test_flows(tmp_path / "flows")
    async with page_bed(settings, flows, Clock(), LIMITS) as bed, browser() as session:
        url = bed.local(await bed.start("kk-policy"))
        async with session.get(url, headers={"X-Forwarded-Proto": "https"}) as response:
            assert "Secure" not in response.headers["Set-Cookie"]
