"""Spreadsheet imports: CSV in UTF-8 with a BOM, cp1250 and cp1251 with different delimiters,
XLSX written by openpyxl, headers in the customer's language or a mapping file; bad rows are
reported as FILE:LINE: reason, good rows upserted; --dry-run changes nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.errors import ImportRowError
from storage.crm_import import load_crm
from storage.crm_sheets import decode
from storage.models import CustomerEmailRow, CustomerPhoneRow, CustomerRow
from storage.records import SqlRecords
from tests.test_cli import onboard

pytestmark = pytest.mark.crm

BG_CP1251 = (
    "ЕИК;Име;Имейл;Телефон;flag:active_subscription\r\n"
    "175074752;Демо ООД;demo@example.com, office@demo.example.com;02 987 6543;да\r\n"
    "175074753;Грешна контролна цифра;x@example.com;;да\r\n"
    "121005553;София Принт;not-an-email;;не\r\n"
    "\r\n"
    "203004408;Стар договор ЕООД;old@example.com;;може би\r\n"
    "175 074 752;Демо ООД отново;demo@example.com;;да\r\n"
)
PL_CP1250 = (
    "NIP\tNazwa firmy\tAdres e-mail\tNumer telefonu\n"
    "8567346215\tPrzykład Sp. z o.o. — Łódź\tbiuro@example.pl\t22 123 45 67\n"
    "8567346216\tZły NIP Sp. z o.o.\tzly@example.pl\t\n"
    "7770000028\tTechno-Serwis Gdańsk\tit@techno-serwis.example.pl\t601 234 567; 12 345\n"
)
KK_UTF8_BOM = (
    "БСН,Атауы,Электрондық пошта,Телефон,Келісімдер\n"
    '940500000123,"Мысал ЖШС, ""Алматы""",kabinet@example.kz,+7 702 555 0101,e_communication\n'
    "940500000124,Қате БСН,x@example.kz,,\n"
    '940500000123,"Көп жолды\nатау",other@example.kz,,\n'
)


async def count(db: AsyncEngine, table: type) -> int:
    async with db.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar())


def write(tmp_path: Path, name: str, text: str, encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_cp1250_and_cp1251_are_told_apart() -> None:
    assert decode(BG_CP1251.encode("cp1251")) == (BG_CP1251, "cp1251")
    assert decode(PL_CP1250.encode("cp1250")) == (PL_CP1250, "cp1250")
    hu = "Adószám,Cégnév\n12892312,Példa Kft. – Győr, Széchenyi tér\n"
    assert decode(hu.encode("cp1250")) == (hu, "cp1250")
    assert decode(KK_UTF8_BOM.encode("utf-8-sig")) == (KK_UTF8_BOM, "utf-8")


async def test_cp1251_semicolons_with_bad_rows(tmp_path: Path, db: AsyncEngine) -> None:
    path = write(tmp_path, "bg.csv", BG_CP1251, "cp1251")
    report = await load_crm(db, path)
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "column 'ЕИК': the EIK check digit does not match"),
        (
            4,
            "column 'Имейл': 'not-an-email' is not a valid e-mail address "
            "(An email address must have an @-sign.)",
        ),
        (6, "column 'flag:active_subscription': 'може би' is not yes/no (1/0, true/false)"),
        (7, "bg_eik 175074752 is already at line 2"),
    ]
    assert report.loaded == 1
    match = await SqlRecords(db).match_customer(
        tax_scheme="bg_eik", tax_id="175074752", email="office@demo.example.com"
    )
    assert match is not None
    assert (match.name, match.flags) == ("Демо ООД", {"active_subscription": True})
    assert await count(db, CustomerPhoneRow) == 1  # 02 987 6543 read as Bulgarian


async def test_cp1250_tabs_upsert_replaces_contacts(tmp_path: Path, db: AsyncEngine) -> None:
    path = write(tmp_path, "pl.txt", PL_CP1250, "cp1250")
    report = await load_crm(db, path)
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "column 'NIP': the NIP check digit does not match"),
        (4, "column 'Numer telefonu': '12 345' is not a valid phone number"),
    ]
    assert report.loaded == 1
    again = PL_CP1250.replace("biuro@example.pl", "nowy@example.pl")
    report = await load_crm(db, write(tmp_path, "pl2.csv", again, "cp1250"))
    assert report.loaded == 1
    assert await count(db, CustomerRow) == 1
    async with db.connect() as connection:
        emails = (await connection.execute(select(CustomerEmailRow.email))).scalars().all()
        name = (await connection.execute(select(CustomerRow.name))).scalar_one()
    assert (emails, name) == (["nowy@example.pl"], "Przykład Sp. z o.o. — Łódź")


async def test_utf8_with_bom_commas_quotes_and_a_multi_line_cell(
    tmp_path: Path, db: AsyncEngine
) -> None:
    path = write(tmp_path, "kk.csv", KK_UTF8_BOM, "utf-8-sig")
    report = await load_crm(db, path)
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "column 'БСН': the BIN/IIN check digit does not match"),
        (4, "kz_bin 940500000123 is already at line 2"),  # the record starting on line 4
    ]
    async with db.connect() as connection:
        name = (await connection.execute(select(CustomerRow.name))).scalar_one()
    assert name == 'Мысал ЖШС, "Алматы"'


async def test_xlsx_with_hungarian_headers_numbers_and_bad_rows(
    tmp_path: Path, db: AsyncEngine
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Adószám", "Cégnév", "E-mail cím", "Telefonszám", "flag:active_subscription"])
    sheet.append([12892312, "Példa Kft.", "iroda@example.hu", "+36 1 234 5678", True])
    sheet.append([12892313, "Rossz Kft.", "rossz@example.hu", None, False])
    sheet.append([None, None, None, None, None])
    sheet.append(["12892312-2-41", "Példa Kft. másodszor", "iroda@example.hu", None, True])
    sheet.append(["10773381", "", "ures@example.hu", None, "igen"])
    path = tmp_path / "ugyfelek.xlsx"
    book.save(path)
    report = await load_crm(db, path)
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [
        (3, "column 'Adószám'"),
        (5, "hu_tax 12892312 is already at line 2"),
        (6, "column 'Cégnév'"),
    ]
    assert report.loaded == 1
    match = await SqlRecords(db).match_customer(
        tax_scheme="hu_tax", tax_id="12892312", email="IRODA@example.hu"
    )
    assert match is not None
    assert match.flags == {"active_subscription": True}


async def test_a_mapping_file_names_the_columns(tmp_path: Path, db: AsyncEngine) -> None:
    path = write(
        tmp_path,
        "export.csv",
        "Kundennr|Firma|Steuer|Mail\n1|Beispiel GmbH|BG175074752|info@beispiel.example.de\n",
        "utf-8",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "scheme: bg_eik\ncolumns:\n  Kundennr: ignore\n  Steuer: tax_id\n  Mail: emails\n"
    )
    report = await load_crm(db, path, mapping=mapping)
    assert (report.loaded, report.errors) == (1, [])
    mapping.write_text("columns:\n  Steuer: steuernummer\n")
    with pytest.raises(ImportRowError, match="'steuernummer' is not one of"):
        await load_crm(db, path, mapping=mapping)


async def test_a_sheet_without_the_needed_columns_is_refused(
    tmp_path: Path, db: AsyncEngine
) -> None:
    path = write(tmp_path, "wrong.csv", "Kundennr,Mail\n1,a@example.de\n", "utf-8")
    with pytest.raises(ImportRowError, match="no column for tax_id, name, scheme"):
        await load_crm(db, path)
    assert await count(db, CustomerRow) == 0


def test_cli_report_and_dry_run(tmp_path: Path) -> None:
    path = write(tmp_path, "bg.csv", BG_CP1251, "cp1251")
    dry = onboard("crm", "load", str(path), "--dry-run", tmp_path=tmp_path)
    assert dry.returncode == 1
    lines = dry.stdout.splitlines()
    assert lines[0] == f"{path}:3: column 'ЕИК': the EIK check digit does not match"
    assert lines[-1] == f"{path}: 1 would load, 4 rejected (dry run: nothing was changed)"
    print(dry.stdout)  # the report quoted in the closing note
    assert customers_in(tmp_path / "cli.db") == 0  # the dry run wrote nothing
    real = onboard("crm", "load", str(path), tmp_path=tmp_path)
    assert real.stdout.splitlines()[-1] == f"{path}: 1 loaded, 4 rejected"
    assert real.stdout.splitlines()[:-1] == lines[:-1]
    assert "Traceback" not in real.stderr + dry.stderr
    assert customers_in(tmp_path / "cli.db") == 1


def customers_in(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM customers").fetchone()[0])
