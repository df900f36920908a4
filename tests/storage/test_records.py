"""SqlRecords: customer matching, requests for a person, one-time hand-off tokens."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.events import ConversationKey
from dialogs.ports import HumanRequest, RecordLookup, RequestRecorder, TokenStore
from storage.crm_import import parse_crm, store_rows
from storage.hot_sql import AsyncpgPath, hot_path
from storage.models import HumanRequestRow
from storage.records import SqlRecords, TokenInfo

from .records_fixtures import Database, db_fixture, engine_fixture  # noqa: F401 - fixtures

KEY = ConversationKey(bot_id=7, chat_id=-1001234, user_id=42)
NOW = 1_750_000_000.0

CRM = """
customers:
  - {tax_id: "175074752", scheme: bg_eik, name: Demo Ltd.,
     emails: [demo@example.com, Second@Example.com], phones: ["+359 88 123 4567"],
     flags: {active_subscription: true}}
  - {tax_id: "1750747520154", scheme: bg_eik, name: Branch, emails: [varna@example.com]}
  - {tax_id: "121005553", scheme: bg_eik, name: Other, emails: [other@example.com]}
  - {tax_id: "8567346215", scheme: pl_nip, name: Polish, emails: [demo@example.com]}
"""


@pytest.fixture(params=("engine", "hot"))
async def records(
    request: pytest.FixtureRequest, engine: AsyncEngine, db: Database
) -> AsyncIterator[SqlRecords]:
    """Through the engine, and through the app's hot path (asyncpg prepared statements on
    PostgreSQL; the engine again on SQLite)."""
    rows, errors = parse_crm(CRM)
    assert errors == []
    await store_rows(engine, rows)
    hot = hot_path(engine, db.options.get("connect_args")) if request.param == "hot" else None
    subject = SqlRecords(engine, hot)
    try:
        yield subject
    finally:
        await subject.close()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _store(records: SqlRecords, token: str, *, expires_at: float = NOW + 600) -> None:
    await records.store_token(
        token_hash=_hash(token),
        purpose="password",
        key=KEY,
        customer_id=None,
        locale="bg",
        expires_at=expires_at,
    )


def test_implements_the_ports(records: SqlRecords) -> None:
    ports: tuple[RecordLookup, RequestRecorder, TokenStore] = (records, records, records)
    assert all(port is records for port in ports)


def test_parse_key_inverts_str() -> None:
    assert ConversationKey.parse(str(KEY)) == KEY


# -- matching ----------------------------------------------------------------------------


async def test_match_by_tax_id_and_email(records: SqlRecords) -> None:
    match = await records.match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="demo@example.com"
    )
    assert match is not None
    assert match.name == "Demo Ltd."
    assert match.flags == {"active_subscription": True}
    branch = await records.match_customer(
        tax_scheme="bg_eik", tax_id="1750747520154", email="varna@example.com"
    )
    assert branch is not None
    assert branch.customer_id != match.customer_id
    assert branch.flags == {}


@pytest.mark.parametrize(
    "email", ["DEMO@EXAMPLE.COM", " Demo@Example.com ", "second@example.com", "SECOND@example.COM"]
)
async def test_email_is_compared_case_blind(records: SqlRecords, email: str) -> None:
    match = await records.match_customer(tax_scheme="bg_eik", tax_id="175074752", email=email)
    assert match is not None
    assert match.name == "Demo Ltd."


async def test_tax_id_input_is_normalised(records: SqlRecords) -> None:
    match = await records.match_customer(
        tax_scheme="bg_eik", tax_id="BG 175 074 752", email="demo@example.com"
    )
    assert match is not None


@pytest.mark.parametrize(
    ("scheme", "tax_id", "email", "phone"),
    [
        ("bg_eik", "175074752", "other@example.com", None),  # another customer's e-mail
        ("bg_eik", "175074752", "nobody@example.com", None),  # unknown e-mail
        ("bg_eik", "121005553", "demo@example.com", None),  # wrong EIK (valid, other firm)
        ("bg_eik", "203004408", "demo@example.com", None),  # valid EIK, not on record
        ("bg_eik", "175074753", "demo@example.com", None),  # EIK with a bad check digit
        ("pl_nip", "175074752", "demo@example.com", None),  # wrong scheme for the number
        ("ro_cui", "175074752", "demo@example.com", None),  # unknown scheme
        ("bg_eik", "175074752", "not an e-mail", None),  # malformed e-mail
        ("bg_eik", "175074752", None, None),  # no contact given at all
        ("bg_eik", "175074752", None, "+359 88 765 4321"),  # wrong phone
        ("bg_eik", "175074752", "demo@example.com", "+359 88 765 4321"),  # e-mail ok, phone not
    ],
)
async def test_every_mismatch_is_the_same_none(
    records: SqlRecords, scheme: str, tax_id: str, email: str | None, phone: str | None
) -> None:
    result = await records.match_customer(
        tax_scheme=scheme, tax_id=tax_id, email=email, phone=phone
    )
    assert result is None


async def test_match_by_phone(records: SqlRecords) -> None:
    for phone in ("+359881234567", "+359 88 123 4567"):
        by_phone = await records.match_customer(
            tax_scheme="bg_eik", tax_id="175074752", phone=phone
        )
        assert by_phone is not None
    both = await records.match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="demo@example.com", phone="+359881234567"
    )
    assert both is not None


# -- requests for a person ---------------------------------------------------------------


async def test_record_human_request(records: SqlRecords, engine: AsyncEngine) -> None:
    first = await records.record_human_request(
        HumanRequest(KEY, "bg-subscription-portal", "no_match", "bg", "no match", NOW)
    )
    second = await records.record_human_request(HumanRequest(KEY, None, None, "en", "help", NOW))
    assert second > first
    async with engine.connect() as connection:
        row = (
            await connection.execute(select(HumanRequestRow).where(HumanRequestRow.id == first))
        ).one()
    assert (row.conversation_key, row.flow, row.step, row.locale, row.reason, row.created_at) == (
        str(KEY),
        "bg-subscription-portal",
        "no_match",
        "bg",
        "no match",
        NOW,
    )


# -- hand-off tokens ---------------------------------------------------------------------


async def test_token_is_single_use(records: SqlRecords) -> None:
    customer = await records.match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="demo@example.com"
    )
    assert customer is not None
    await records.store_token(
        token_hash=_hash("t1"),
        purpose="password",
        key=KEY,
        customer_id=customer.customer_id,
        locale="bg",
        expires_at=NOW + 600,
    )
    before = await records.get_token(_hash("t1"))
    assert before == TokenInfo(
        _hash("t1"), "password", KEY, customer.customer_id, "bg", NOW + 600, None
    )
    assert before.usable(NOW)

    used = await records.consume_token(_hash("t1"), "password", NOW + 1)
    assert used is not None
    assert (used.key, used.customer_id, used.locale) == (KEY, customer.customer_id, "bg")
    assert await records.consume_token(_hash("t1"), "password", NOW + 2) is None

    after = await records.get_token(_hash("t1"))
    assert after is not None
    assert after.used_at == NOW + 1
    assert not after.usable(NOW + 2)


async def test_a_token_stored_twice_is_an_integrity_error_on_every_path(
    records: SqlRecords,
) -> None:
    """The effect runner counts a token stored by an earlier try as stored (bot/effects.py):
    asyncpg's own error on the PostgreSQL hot path is SQLAlchemy's, as on the other paths."""
    await _store(records, "twice")
    with pytest.raises(IntegrityError):
        await _store(records, "twice")


async def test_expired_or_wrong_purpose_token_is_refused(records: SqlRecords) -> None:
    await _store(records, "t2", expires_at=NOW + 600)
    assert await records.consume_token(_hash("t2"), "email-change", NOW) is None
    assert await records.consume_token(_hash("t2"), "password", NOW + 600) is None
    info = await records.get_token(_hash("t2"))
    assert info is not None
    assert info.used_at is None
    assert not info.usable(NOW + 600)
    assert await records.consume_token(_hash("t2"), "password", NOW + 599) is not None


async def test_unknown_token(records: SqlRecords) -> None:
    assert await records.get_token(_hash("nope")) is None
    assert await records.consume_token(_hash("nope"), "password", NOW) is None


async def test_concurrent_consumers_get_the_token_once(records: SqlRecords) -> None:
    await _store(records, "t3")
    results = await asyncio.gather(
        *(records.consume_token(_hash("t3"), "password", NOW) for _ in range(8))
    )
    assert sum(result is not None for result in results) == 1


async def test_hot_path_is_asyncpg_on_postgresql(engine: AsyncEngine, db: Database) -> None:
    """The app's hot path on PostgreSQL runs prepared statements on its own pool, with the
    engine's connection settings (here: the test's schema on the search path)."""
    path = hot_path(engine, db.options.get("connect_args"))
    assert isinstance(path, AsyncpgPath) == (db.kind == "postgres")
    await path.close()
