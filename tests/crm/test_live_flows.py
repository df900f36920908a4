"""Every reference flow walked against the company's CRM on loopback instead of the local copy.

The local copy starts empty (tests/bot/harness.py loads no demo records when the settings
point at a live CRM): every match the flows make comes from the HTTP look-up API.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from storage.crm_sync import sync
from storage.invitations import SqlInvitations
from storage.models import CustomerRow
from tests.bot.harness import running_bot
from tests.bot.test_bg_flow_telegram import walk_bg_flow
from tests.bot.test_de_flow_telegram import de_bot
from tests.bot.test_de_flow_telegram import text_of as de_text
from tests.bot.test_hu_flow_telegram import insurance_bot, walk_registration
from tests.bot.test_pl_flow_telegram import (
    pl_bed,
    walk_contract_errors_then_licence_key,
    walk_registration_errors,
    walk_the_verification_link,
)
from tests.conftest import make_settings
from tests.crm.conftest import live, live_settings
from tests.crm.server import FakeCrm
from tests.notice import notice_text
from tests.support.helpers import register, support_bot
from tests.support.test_tickets_forum import check_topic_and_card, file_first_ticket

pytestmark = pytest.mark.crm


async def test_bg_flow_against_the_live_crm(tmp_path: Path, crm: FakeCrm) -> None:
    async with running_bot(live_settings(tmp_path, crm)) as bot:
        async with bot.app.db.connect() as connection:
            assert (await connection.execute(select(CustomerRow.id))).all() == []
        await walk_bg_flow(bot, "bg")
        async with bot.app.db.connect() as connection:
            mirrored = (
                await connection.execute(select(CustomerRow.tax_id, CustomerRow.external_id))
            ).all()
    assert "customers/match" in crm.ops()
    assert [tax_id for tax_id, _ in mirrored] == ["175074752"]  # only the match is mirrored
    assert mirrored[0][1] is not None


async def test_hu_flow_against_the_live_crm(tmp_path: Path, crm: FakeCrm, app_redis: str) -> None:
    settings = make_settings(tmp_path, redis_url=app_redis, **live(crm))
    async with insurance_bot(tmp_path, settings) as bot:
        await walk_registration(bot, "hu")
    assert {"policies/match", "customers/consent"} <= set(crm.ops())


async def test_pl_flow_against_the_live_crm(tmp_path: Path, crm: FakeCrm, app_redis: str) -> None:
    async with pl_bed(tmp_path, app_redis, **live(crm)) as bed:
        alice = bed.bot.customer(language_code="pl")
        await walk_registration_errors(bed, alice, "pl")
        await walk_the_verification_link(bed, alice, "pl")
        await walk_contract_errors_then_licence_key(bed, alice, "pl")
    assert {"customers/match", "contracts/match", "customers/contracts"} <= set(crm.ops())


async def test_de_flow_after_a_sync_asks_the_crm_for_the_edition(
    tmp_path: Path, crm: FakeCrm, app_redis: str
) -> None:
    """de opens only with an invitation, which the operator makes from the local copy: a sync
    fills it (with the CRM's ids); the edition then comes live from the customer's contracts."""
    async with de_bot(tmp_path, app_redis, **live(crm)) as de:
        assert de.bot.app.crm is not None
        report = await sync(de.bot.app.db, de.bot.app.crm)
        assert report.errors == []
        customer = await SqlInvitations(de.bot.app.db).customer_by_tax_id("de_vat", "812345673")
        assert customer is not None
        alice = de.bot.customer(user_id=601, language_code="de")
        limits = {"min": 4, "max": 30}
        token = await de.invite("de", None, customer)
        assert await alice.send(f"/start {token}") == [
            notice_text("de"),
            de.t(de_text("username"), "de", **limits),
        ]
        # the CRM says solo: user name -> visibility -> password
        assert await alice.send("praxis.solo") == [de.t(de_text("visibility"), "de")]
    assert "customers/contracts" in crm.ops()


async def test_support_ticket_flow_lists_the_device_lines_from_the_crm(
    tmp_path: Path, crm: FakeCrm, app_redis: str
) -> None:
    async with support_bot(tmp_path, app_redis, forum=True, **live(crm)) as bot:
        alice = bot.customer(language_code="pl")
        await register(alice)
        await file_first_ticket(bot, alice)
        check_topic_and_card(bot, "pl")
    assert {"customers/match", "customers/contracts"} <= set(crm.ops())
