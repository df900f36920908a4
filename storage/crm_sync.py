"""``onboard crm sync``: pull the CRM's changes since the last cursor into the local copy.

``GET {CRM_LOOKUP_URL}/v1/changes?since=CURSOR&limit=N`` answers a page of customers (the
import format's fields plus the CRM's ``id``; ``deleted: true`` for one removed at the
source), the next ``cursor`` and whether there is ``more``. Each page is written in one
transaction together with its cursor, so a sync that stops half-way resumes where it stopped
and a page is never applied twice. A customer removed at the source is **deactivated** (it no
longer matches), never deleted: conversations, tokens and tickets keep referring to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs.errors import ImportRowError, LookupUnavailable
from storage.crm_http import HttpCrm
from storage.crm_import import CrmRow, _message, _upsert
from storage.db import dialect_insert
from storage.models import CrmSyncStateRow, CustomerRow

SYNC_NAME = "crm"
PAGE_SIZE = 200
MAX_PAGES = 10_000


class ChangesPage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    customers: list[Any] = Field(max_length=5000)
    cursor: str = Field(min_length=1, max_length=500)
    more: bool = False


@dataclass
class SyncReport:
    upserted: int = 0
    deactivated: int = 0
    pages: int = 0
    cursor: str | None = None
    errors: list[ImportRowError] = field(default_factory=list)


async def stored_cursor(engine: AsyncEngine) -> str | None:
    query = select(CrmSyncStateRow.cursor).where(CrmSyncStateRow.name == SYNC_NAME)
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar_one_or_none()


async def _save_cursor(connection: AsyncConnection, cursor: str, now: float) -> None:
    statement = dialect_insert(connection, CrmSyncStateRow).values(
        name=SYNC_NAME, cursor=cursor, synced_at=now
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"cursor": cursor, "synced_at": now}
        )
    )


async def _apply(
    connection: AsyncConnection, item: dict[str, Any], now: float, report: SyncReport, at: int
) -> None:
    external = str(item.get("id") or "").strip()
    if not external or len(external) > 100:
        report.errors.append(ImportRowError(at, "a customer without a usable 'id'"))
        return
    if item.get("deleted") is True:
        result = await connection.execute(
            update(CustomerRow)
            .where(CustomerRow.external_id == external, CustomerRow.active.is_(True))
            .values(active=False)
        )
        report.deactivated += result.rowcount or 0
        return
    fields = {key: value for key, value in item.items() if key not in ("id", "deleted")}
    try:
        row = CrmRow.model_validate(fields)
    except ValidationError as exc:
        reason = "; ".join(_message(error) for error in exc.errors())
        report.errors.append(ImportRowError(at, f"customer {external}: {reason}"))
        return
    await connection.execute(
        update(CustomerRow)
        .where(
            CustomerRow.external_id == external,
            (CustomerRow.tax_scheme != row.scheme) | (CustomerRow.tax_id != row.tax_id),
        )
        .values(external_id=None)
    )
    await _upsert(connection, row, now)
    await connection.execute(
        update(CustomerRow)
        .where(CustomerRow.tax_scheme == row.scheme, CustomerRow.tax_id == row.tax_id)
        .values(external_id=external, active=True)
    )
    report.upserted += 1


async def sync(
    engine: AsyncEngine, crm: HttpCrm, *, full: bool = False, page_size: int = PAGE_SIZE
) -> SyncReport:
    """Pull every page of changes since the stored cursor (from the start with ``full``).
    LookupUnavailable if the CRM cannot answer; the pages already written stay written."""
    report = SyncReport(cursor=None if full else await stored_cursor(engine))
    seen = 0
    for _ in range(MAX_PAGES):
        query = {"limit": page_size, **({"since": report.cursor} if report.cursor else {})}
        data = await crm.request("GET", f"changes?{urlencode(query)}", None)
        try:
            page = ChangesPage.model_validate(data)
        except ValidationError as exc:
            raise LookupUnavailable(
                f"changes: malformed answer ({exc.error_count()} problems)"
            ) from None
        now = time.time()
        async with engine.begin() as connection:
            for item in page.customers:
                seen += 1
                if not isinstance(item, dict):
                    report.errors.append(ImportRowError(seen, "a change that is not an object"))
                    continue
                await _apply(connection, item, now, report, seen)
            await _save_cursor(connection, page.cursor, now)
        report.pages += 1
        report.cursor = page.cursor
        if not page.more or not page.customers:
            break
    crm.invalidate()  # matches cached before the sync may be stale now
    return report
