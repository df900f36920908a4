"""``onboard crm sync``: the CRM's list of changes pulled page by page into the local copy;
removed customers deactivated, not deleted; a bad change reported, the rest applied."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.errors import LookupUnavailable
from storage.crm_import import CrmRow
from storage.crm_sync import stored_cursor, sync
from storage.models import CustomerRow, HumanRequestRow
from storage.records import SqlRecords
from tests.crm.conftest import connector
from tests.crm.server import FakeCrm
from tests.test_cli import onboard

pytestmark = pytest.mark.crm


async def local(db: AsyncEngine) -> dict[str, tuple[str, bool]]:
    """external id -> (name, active)"""
    query = select(CustomerRow.external_id, CustomerRow.name, CustomerRow.active)
    async with db.connect() as connection:
        return {ext: (name, active) for ext, name, active in (await connection.execute(query))}


async def test_a_full_sync_then_only_the_changes(crm: FakeCrm, db: AsyncEngine) -> None:
    live = connector(crm, db)
    try:
        report = await sync(db, live, page_size=3)
        total = len(crm.rows)
        assert (report.upserted, report.deactivated, report.errors) == (total, 0, [])
        assert report.pages == -(-total // 3)
        assert await stored_cursor(db) == str(total)
        assert len(await local(db)) == total

        # at the source: an e-mail added by phone (seed 000), a customer removed
        demo = crm.rows["C-1"]
        crm.upsert("C-1", demo.model_copy(update={"emails": ("new@example.com",)}))
        removed = crm.rows["C-2"]
        async with db.begin() as connection:  # a request for a person refers to it
            customer = (
                await connection.execute(
                    select(CustomerRow.id).where(CustomerRow.external_id == "C-2")
                )
            ).scalar_one()
            await connection.execute(
                HumanRequestRow.__table__.insert().values(
                    conversation_key="1:2:2",
                    flow="bg-subscription-portal",
                    step="match",
                    locale="bg",
                    reason="test",
                    created_at=0.0,
                    kind="help",
                )
            )
        crm.remove("C-2")
        asked = len(crm.requests)
        report = await sync(db, live, page_size=3)
        assert (report.upserted, report.deactivated, report.pages) == (1, 1, 1)
        assert len(crm.requests) == asked + 1  # only the page after the cursor
    finally:
        await live.close()
    rows = await local(db)
    assert rows["C-2"] == (removed.name, False)  # kept, no longer active
    records = SqlRecords(db)
    assert (
        await records.match_customer(
            tax_scheme=removed.scheme, tax_id=removed.tax_id, email=removed.emails[0]
        )
        is None
    )
    assert await records.match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="new@example.com"
    )
    assert customer is not None


async def test_a_bad_change_is_reported_and_the_rest_applied(crm: FakeCrm, db: AsyncEngine) -> None:
    crm.changes = crm.changes[:3]
    crm.upsert("C-99", CrmRow.model_construct(scheme="bg_eik", tax_id="175074753", name="Bad"))
    crm.changes.append(crm.changes[-1].__class__(len(crm.changes) + 1, "", None))
    live = connector(crm, db)
    try:
        report = await sync(db, live, page_size=10)
    finally:
        await live.close()
    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "customer C-99: tax_id: the EIK check digit does not match"),
        (5, "a customer without a usable 'id'"),
    ]
    assert report.upserted == 3


async def test_a_crm_that_is_down_changes_nothing(crm: FakeCrm, db: AsyncEngine) -> None:
    crm.behaviour = "down"
    live = connector(crm, db, retries=0)
    try:
        with pytest.raises(LookupUnavailable):
            await sync(db, live)
    finally:
        await live.close()
    assert await stored_cursor(db) is None
    async with db.connect() as connection:
        assert (await connection.execute(select(func.count(CustomerRow.id)))).scalar() == 0


@pytest.mark.parametrize("auth", ["bearer", "hmac"])
async def test_the_sync_command(tmp_path: Path, crm: FakeCrm, auth: str) -> None:
    crm.auth = auth
    env = {
        "CRM_LOOKUP_URL": crm.url,
        "CRM_LOOKUP_TOKEN": crm.token,
        "CRM_LOOKUP_AUTH": auth,
    }
    done = await asyncio.to_thread(onboard, "crm", "sync", tmp_path=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    total = len(crm.rows)
    pages = -(-total // 200)
    assert done.stdout.splitlines() == [
        f"crm sync: {total} updated, 0 deactivated, 0 rejected ({pages} pages; cursor {total})"
    ]
    again = await asyncio.to_thread(onboard, "crm", "sync", tmp_path=tmp_path, env=env)
    assert again.stdout.splitlines() == [
        f"crm sync: 0 updated, 0 deactivated, 0 rejected (1 pages; cursor {total})"
    ]
    crm.token = "rotated"
    refused = await asyncio.to_thread(onboard, "crm", "sync", tmp_path=tmp_path, env=env)
    assert refused.returncode == 1
    assert "refused our credentials" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert crm.token not in refused.stderr + refused.stdout


def test_sync_without_a_crm_is_a_usage_error(tmp_path: Path) -> None:
    done = onboard("crm", "sync", tmp_path=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("crm sync needs CRM_LOOKUP_URL (and CRM_LOOKUP_TOKEN): the CRM's API")
    )
