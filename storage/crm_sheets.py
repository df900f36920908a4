"""Spreadsheet imports of the CRM: CSV (any delimiter; UTF-8, UTF-8 with BOM, cp1250, cp1251)
and XLSX (openpyxl), one customer per row (format: docs/crm-format.md, "Spreadsheets").

Columns are found by their header (:mod:`storage.crm_columns`), in English or in the customer's
language, or by a mapping file (``--mapping``, YAML). Every row becomes the same :class:`CrmRow`
a YAML import makes, so the rules, the ``FILE:LINE: reason`` report and the upsert are the same.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dialogs.errors import ImportRowError
from storage.crm_columns import FALSE, TRUE, ColumnMapping, Columns, columns
from storage.crm_import import CrmRow, _message

SHEET_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
LIST_FIELDS = ("emails", "phones", "consents")
LIST_SPLIT = re.compile(r"[;,\n]+")
# -- decoding CSV ----------------------------------------------------------------------


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read in: UTF-8 (a BOM allowed), else the one of
    cp1250 (Central European) and cp1251 (Cyrillic) whose letters make words."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise ImportRowError(1, f"the file is not {encoding} text ({exc})") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # In Cyrillic text nearly every letter is a byte >= 0xC0, so such bytes stand together;
    # in Polish, Czech or Hungarian text they sit alone among ASCII letters.
    high = [i for i, byte in enumerate(data) if byte >= 0xC0]
    together = sum(
        1
        for i in high
        if (i > 0 and data[i - 1] >= 0xC0) or (i + 1 < len(data) and data[i + 1] >= 0xC0)
    )
    guess = "cp1251" if high and together / len(high) > 0.5 else "cp1250"
    try:
        return data.decode(guess), guess
    except UnicodeDecodeError:
        other = "cp1250" if guess == "cp1251" else "cp1251"
        try:
            return data.decode(other), other
        except UnicodeDecodeError as exc:
            raise ImportRowError(
                1, f"the file is not UTF-8, cp1250 or cp1251 text ({exc.reason})"
            ) from None


def _delimiter(text: str, given: str | None) -> str:
    if given:
        return given
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def csv_records(data: bytes, mapping: ColumnMapping) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its cells), the header first."""
    text, _encoding = decode(data, mapping.encoding)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text, mapping.delimiter)
    )
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRowError(line, f"not valid CSV ({exc})") from None


def xlsx_records(path: Path, mapping: ColumnMapping) -> Iterator[tuple[int, list[str]]]:
    """(sheet row number, its cells as text), the header first."""
    from openpyxl import load_workbook  # noqa: PLC0415 - only for spreadsheets

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportRowError(1, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        if mapping.sheet and mapping.sheet not in book.sheetnames:
            raise ImportRowError(1, f"the workbook has no sheet {mapping.sheet!r}")
        sheet = book[mapping.sheet] if mapping.sheet else book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell(value) for value in values]
    finally:
        book.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a tax id typed as a number: 175074752.0 -> "175074752"
    return str(value)


def _row_data(cells: Sequence[str], chosen: Columns, mapping: ColumnMapping) -> dict[str, Any]:
    data: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    for index, target in chosen.fields.items():
        value = cells[index].strip() if index < len(cells) else ""
        if target.startswith("flag:"):
            flags[target[5:]] = _flag(value, chosen.headers[target])
        elif target in LIST_FIELDS:
            data[target] = [part.strip() for part in LIST_SPLIT.split(value) if part.strip()]
        elif value:
            data[target] = value
    scheme = mapping.scheme or chosen.scheme
    if scheme and "scheme" not in data:
        data["scheme"] = scheme
    if mapping.region and "region" not in data:
        data["region"] = mapping.region
    if flags:
        data["flags"] = flags
    return data


def _flag(value: str, header: str) -> bool:
    folded = value.strip().casefold()
    if folded in TRUE:
        return True
    if folded in FALSE:
        return False
    raise ValueError(f"column {header!r}: {value!r} is not yes/no (1/0, true/false)")


def _reason(exc: ValidationError, chosen: Columns) -> str:
    parts = []
    for error in exc.errors():
        where = str(error["loc"][0]) if error["loc"] else ""
        header = chosen.headers.get(where)
        message = _message({**error, "loc": error["loc"][1:]}) if header else _message(error)
        parts.append(f"column {header!r}: {message}" if header else message)
    return "; ".join(parts)


def parse_records(
    records: Iterator[tuple[int, list[str]]], mapping: ColumnMapping
) -> tuple[list[CrmRow], list[ImportRowError]]:
    try:
        _line, header = next(records)
    except StopIteration:
        raise ImportRowError(1, "the file is empty") from None
    chosen = columns(header, mapping)
    rows: list[CrmRow] = []
    errors: list[ImportRowError] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between blocks are common in exports
        try:
            row = CrmRow.model_validate(_row_data(cells, chosen, mapping))
        except ValidationError as exc:
            errors.append(ImportRowError(line, _reason(exc, chosen)))
            continue
        except ValueError as exc:
            errors.append(ImportRowError(line, str(exc)))
            continue
        earlier = first_line.setdefault((row.scheme, row.tax_id), line)
        if earlier != line:
            errors.append(
                ImportRowError(line, f"{row.scheme} {row.tax_id} is already at line {earlier}")
            )
            continue
        rows.append(row)
    return rows, errors


def is_sheet(path: Path) -> bool:
    return path.suffix.lower() in SHEET_SUFFIXES


def read_sheet(
    path: Path, mapping: ColumnMapping | None = None
) -> tuple[list[CrmRow], list[ImportRowError]]:
    """The valid rows of a CSV or XLSX file and the errors of the others."""
    mapping = mapping or ColumnMapping()
    if path.suffix.lower() == ".xlsx":
        return parse_records(xlsx_records(path, mapping), mapping)
    return parse_records(csv_records(path.read_bytes(), mapping), mapping)
