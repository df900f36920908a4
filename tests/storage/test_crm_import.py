"""CRM file parsing (line numbers, reasons) and loading into SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.errors import ImportRowError
from storage.crm_import import load_crm, parse_crm, read_crm
from storage.models import CustomerEmailRow, CustomerRow
from storage.records import SqlRecords

from .records_fixtures import db_fixture, engine_fixture  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "crm.yaml"
WITH_ERRORS = Path(__file__).parent / "data" / "crm_with_errors.yaml"


# -- parsing -----------------------------------------------------------------------------


def _expected_errors(path: Path) -> dict[int, str]:
    """``# error: <text>`` markers: line -> text expected in that line's reason."""
    expected = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = re.search(r"# error: (.+)$", line)
        if found and not line.lstrip().startswith("#"):
            expected[number] = found.group(1).strip()
    return expected


def test_bad_rows_are_reported_at_their_line_with_a_reason() -> None:
    rows, errors = read_crm(WITH_ERRORS)
    expected = _expected_errors(WITH_ERRORS)
    assert len(expected) == 11
    assert [error.line for error in errors] == sorted(expected)
    for error in errors:
        assert expected[error.line] in error.reason, (error.line, error.reason)
    assert [(row.scheme, row.tax_id) for row in rows] == [
        ("bg_eik", "175074752"),
        ("bg_eik", "1750747520154"),
        ("pl_nip", "8567346215"),
        ("hu_tax", "12892312"),
    ]


def test_rows_are_normalised() -> None:
    rows, _ = read_crm(WITH_ERRORS)
    demo, _, polish, hungarian = rows
    assert demo.emails == ("demo@example.com",)
    assert demo.flags == {"active_subscription": True}
    assert polish.phones == ("+48221234567",)  # national format read in the scheme's country
    assert hungarian.flags == {"active_subscription": True}  # YAML "yes"


def test_json_rows_report_their_lines() -> None:
    text = (
        '{"customers": [\n'
        '  {"tax_id": "175074752", "scheme": "bg_eik", "name": "Demo Ltd.",\n'
        '   "emails": ["demo@example.com"], "flags": {"active_subscription": true}},\n'
        '  {"tax_id": 175074753, "scheme": "bg_eik", "name": "Bad"},\n'
        '  {"tax_id": "121005553", "scheme": "bg_eik"}\n'
        "]}\n"
    )
    rows, errors = parse_crm(text)
    assert [row.name for row in rows] == ["Demo Ltd."]
    assert [(error.line, error.reason) for error in errors] == [
        (4, "tax_id: the EIK check digit does not match"),
        (5, "name: is required"),
    ]


def test_unquoted_tax_id_keeps_its_digits() -> None:
    rows, errors = parse_crm("customers:\n- {tax_id: 041000139, scheme: bg_eik, name: Zero}\n")
    assert errors == []
    assert rows[0].tax_id == "041000139"  # not the octal/integer reading of YAML 1.1


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("customers:\n  - tax_id: 1\n    name: [unclosed\n", 4, "not valid YAML or JSON"),
        ('{"customers": [\n  {"tax_id": "1",,}\n]}\n', 2, "not valid YAML or JSON"),
        ("", 1, "empty"),
        ("just some words\n", 1, "mapping"),
        ("clients:\n  - {}\n", 1, "no 'customers' list"),
        ("# header\ncustomers: 5\n", 2, "must be a list"),
    ],
)
def test_unusable_file_is_rejected_whole(text: str, line: int, reason: str) -> None:
    with pytest.raises(ImportRowError, match=reason) as caught:
        parse_crm(text)
    assert caught.value.line == line


def test_non_utf8_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("customers:\n- name: Példa\n".encode("latin-1"))
    with pytest.raises(ImportRowError, match="UTF-8"):
        read_crm(path)


def test_demo_file_is_clean() -> None:
    rows, errors = read_crm(DEMO)
    assert errors == []
    assert len(rows) >= 8
    first = rows[0]
    assert (first.scheme, first.tax_id, first.name) == ("bg_eik", "175074752", "Demo Ltd.")
    assert first.emails == ("demo@example.com",)
    assert first.flags == {"active_subscription": True}
    bg = [row for row in rows if row.scheme == "bg_eik"]
    assert any(len(row.tax_id) == 13 for row in bg)
    assert any(row.flags.get("active_subscription") is False for row in bg)
    assert any(not row.emails for row in bg)
    assert {row.scheme for row in rows} == {"bg_eik", "pl_nip", "hu_tax", "kz_bin", "de_vat"}


# -- loading -----------------------------------------------------------------------------


async def _count(engine: AsyncEngine, table: type[CustomerRow] | type[CustomerEmailRow]) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_load_stores_good_rows_and_reports_bad_ones(engine: AsyncEngine) -> None:
    report = await load_crm(engine, WITH_ERRORS)
    assert report.loaded == 4
    assert not report.ok
    assert [error.line for error in report.errors] == sorted(_expected_errors(WITH_ERRORS))
    assert await _count(engine, CustomerRow) == 4
    records = SqlRecords(engine)
    match = await records.match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="demo@example.com"
    )
    assert match is not None
    assert match.name == "Demo Ltd."
    assert match.flags == {"active_subscription": True}
    assert await records.match_customer(
        tax_scheme="pl_nip", tax_id="8567346215", phone="+48 22 123 45 67"
    )


async def test_reload_upserts(engine: AsyncEngine, tmp_path: Path) -> None:
    records = SqlRecords(engine)
    first = await load_crm(engine, DEMO)
    assert first.ok
    customers, emails = await _count(engine, CustomerRow), await _count(engine, CustomerEmailRow)
    again = await load_crm(engine, DEMO)
    assert (again.loaded, again.ok) == (first.loaded, True)
    assert (await _count(engine, CustomerRow), await _count(engine, CustomerEmailRow)) == (
        customers,
        emails,
    )
    before = await records.match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="demo@example.com"
    )
    assert before is not None

    changed = tmp_path / "changed.yaml"
    changed.write_text(
        "customers:\n"
        "  - tax_id: '175074752'\n"
        "    scheme: bg_eik\n"
        "    name: Demo Ltd. (renamed)\n"
        "    emails: [new@example.com]\n"
        "    flags: {active_subscription: false}\n",
        encoding="utf-8",
    )
    report = await load_crm(engine, changed)
    assert (report.loaded, report.ok) == (1, True)
    assert await _count(engine, CustomerRow) == customers  # updated, not added
    assert (
        await records.match_customer(
            tax_scheme="bg_eik", tax_id="175074752", email="demo@example.com"
        )
        is None
    )
    after = await records.match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="NEW@example.com"
    )
    assert after is not None
    assert after.customer_id == before.customer_id
    assert after.name == "Demo Ltd. (renamed)"
    assert after.flags == {"active_subscription": False}


async def test_unusable_file_loads_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"customers": [\n  {"tax_id": \n', encoding="utf-8")
    with pytest.raises(ImportRowError) as caught:
        await load_crm(engine, broken)
    assert caught.value.line == 3
    assert await _count(engine, CustomerRow) == 0
