"""Spreadsheet imports of the CRM: CSV (any delimiter; UTF-8, UTF-8 with BOM, cp1250, cp1251)
and XLSX (openpyxl), one customer per row (format: docs/crm-format.md, "Spreadsheets").

Columns are found by their header, in English or in the customer's language (``HEADERS``), or
by a mapping file (``--mapping``, YAML). Every row becomes the same :class:`CrmRow` a YAML
import makes, so the rules, the ``FILE:LINE: reason`` report and the upsert are the same.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dialogs.errors import ImportRowError
from storage.crm_import import CrmRow, _message

SHEET_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
FIELDS = ("tax_id", "scheme", "name", "region", "emails", "phones", "consents")
LIST_FIELDS = ("emails", "phones", "consents")
LIST_SPLIT = re.compile(r"[;,\n]+")
# Header names as Central- and East-European exports write them (compared without case,
# accents, spaces and punctuation). A column named ``flag:NAME`` is the flag NAME.
# fmt: off
HEADERS: dict[str, tuple[str, ...]] = {
    "tax_id": (
        "tax id", "tax number", "vat", "eik", "bulstat", "ЕИК", "БУЛСТАТ", "ЕИК/БУЛСТАТ",
        "adószám", "adoszam", "nip", "numer nip", "bin", "iin", "БИН", "ИИН", "БСН", "ЖСН",
        "steuernummer", "ust-idnr", "ust-id", "umsatzsteuer-id",
    ),
    "scheme": ("scheme", "tax scheme", "схема", "séma", "schemat", "schema"),
    "name": (
        "name", "company", "company name", "customer", "име", "фирма", "наименование",
        "név", "cégnév", "ügyfél", "nazwa", "firma", "nazwa firmy", "атауы", "компания",
        "название", "kunde", "unternehmen",
    ),
    "region": ("region", "country", "държава", "ország", "kraj", "ел", "страна", "land"),
    "emails": (
        "email", "e-mail", "emails", "e-mails", "mail", "имейл", "е-поща", "електронна поща",
        "e-mail cím", "email cím", "adres e-mail", "электронная почта", "пошта",
        "электрондық пошта", "e-mail-adresse",
    ),
    "phones": (
        "phone", "phones", "telephone", "mobile", "телефон", "телефони", "мобилен", "telefon",
        "telefonszám", "mobil", "numer telefonu", "телефоны", "handy", "telefonnummer",
    ),
    "consents": ("consents", "declarations", "съгласия", "nyilatkozatok", "zgody", "келісімдер"),
}
# fmt: on
TRUE = frozenset({"1", "true", "yes", "y", "x", "да", "igen", "tak", "ja", "иә", "ия"})
FALSE = frozenset({"", "0", "false", "no", "n", "не", "nem", "nie", "nein", "жоқ", "нет"})


def _fold(text: str) -> str:
    """A header compared: lower case, no accents, no spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


KNOWN = {_fold(alias): name for name, aliases in HEADERS.items() for alias in (name, *aliases)}
# A tax-number header that names its scheme: no scheme column is needed then.
SCHEME_OF_HEADER = {
    _fold(alias): scheme
    for scheme, aliases in {
        "bg_eik": ("eik", "bulstat", "ЕИК", "БУЛСТАТ", "ЕИК/БУЛСТАТ"),
        "pl_nip": ("nip", "numer nip"),
        "hu_tax": ("adószám", "adoszam"),
        "kz_bin": ("bin", "iin", "БИН", "ИИН", "БСН", "ЖСН"),
        "de_vat": ("ust-idnr", "ust-id", "umsatzsteuer-id"),
    }.items()
    for alias in aliases
}


class ColumnMapping(BaseModel):
    """A mapping file: which header is which field, and what the sheet leaves out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, str] = Field(default_factory=dict)  # header -> field or flag:NAME
    scheme: str | None = None  # when the sheet has no scheme column
    region: str | None = None
    encoding: str | None = None  # CSV only: utf-8, cp1250, cp1251 (default: detected)
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    sheet: str | None = None  # XLSX: the worksheet (default: the first)

    @field_validator("columns")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        for header, name in value.items():
            if name not in FIELDS and not name.startswith("flag:") and name != "ignore":
                known = ", ".join((*FIELDS, "flag:NAME", "ignore"))
                raise ValueError(f"column {header!r}: {name!r} is not one of {known}")
        return value


def read_mapping(path: Path) -> ColumnMapping:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        return ColumnMapping.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ImportRowError(1, f"{path}: the mapping file cannot be read ({exc})") from None
    except ValidationError as exc:
        reason = "; ".join(_message(error) for error in exc.errors())
        raise ImportRowError(1, f"{path}: mapping file: {reason}") from None


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


# -- rows --------------------------------------------------------------------------------


@dataclass
class Columns:
    """Which cell is which field, found from the header row."""

    fields: dict[int, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as written
    scheme: str | None = None  # the scheme the tax-number header names (e.g. "ЕИК")


def columns(header: Sequence[str], mapping: ColumnMapping) -> Columns:
    chosen = Columns()
    explicit = {_fold(name): target for name, target in mapping.columns.items()}
    for index, raw in enumerate(header):
        name = raw.strip()
        folded = _fold(name)
        if not folded:
            continue
        target = explicit.get(folded)
        if target is None and name.casefold().startswith("flag:"):
            target = "flag:" + name.split(":", 1)[1].strip()
        if target is None:
            target = KNOWN.get(folded)
        if target is None or target == "ignore":
            continue
        if target in chosen.headers:
            raise ImportRowError(
                1, f"columns {chosen.headers[target]!r} and {name!r} are both {target}"
            )
        chosen.fields[index] = target
        chosen.headers[target] = name
        if target == "tax_id":
            chosen.scheme = SCHEME_OF_HEADER.get(folded)
    implied = mapping.scheme or chosen.scheme
    missing = [
        need
        for need in ("tax_id", "name", *(() if implied else ("scheme",)))
        if need not in chosen.headers
    ]
    if missing:
        raise ImportRowError(
            1,
            "no column for " + ", ".join(missing) + " (header names: see docs/crm-format.md, "
            "or give a --mapping file)",
        )
    return chosen


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
