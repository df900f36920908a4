"""CRM import: a YAML or JSON file with a ``customers:`` list (format: docs/crm-format.md).

Every row is validated on its own: bad rows are reported with the line they start on, good
rows are upserted by (scheme, tax_id) in one transaction. The file is composed (not loaded)
with PyYAML, which reads JSON too, so each row keeps its position, and scalars keep their
text: ``tax_id: 0175074752`` stays a string of digits, never an (octal) integer.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import phonenumbers
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs import validators
from dialogs.errors import ImportRowError
from storage.crm_contracts import ConsentKind, ContractIn, replace_contracts
from storage.db import dialect_insert
from storage.models import CustomerEmailRow, CustomerPhoneRow, CustomerRow
from storage.taxids import normalise_tax_id

Scheme = Literal["bg_eik", "pl_nip", "hu_tax", "kz_bin", "de_vat"]
DEFAULT_REGION: dict[str, str] = {
    "bg_eik": "BG",
    "pl_nip": "PL",
    "hu_tax": "HU",
    "kz_bin": "KZ",
    "de_vat": "DE",
}
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"


@dataclass
class ImportReport:
    """What a load did: how many customers were written and which rows were rejected."""

    loaded: int = 0
    errors: list[ImportRowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class CrmRow(BaseModel):
    """One customer row, normalised: tax id digits, lower-case e-mails, E.164 phones."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    scheme: Scheme  # declared first: the tax_id validator needs it
    tax_id: str
    name: str = Field(min_length=1, max_length=300)
    region: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    flags: dict[str, bool] = Field(default_factory=dict)
    contracts: tuple[ContractIn, ...] = ()
    consents: tuple[ConsentKind, ...] = ()

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str, info: ValidationInfo) -> str:
        scheme = info.data.get("scheme")
        return value if scheme is None else normalise_tax_id(scheme, value)

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(_email(value) for value in values)

    @field_validator("phones")
    @classmethod
    def _phones(cls, values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        region = info.data.get("region") or DEFAULT_REGION.get(info.data.get("scheme", ""))
        return _unique(_phone(value, region) for value in values)

    @field_validator("contracts")
    @classmethod
    def _contracts(
        cls, values: tuple[ContractIn, ...], info: ValidationInfo
    ) -> tuple[ContractIn, ...]:
        region = info.data.get("region") or DEFAULT_REGION.get(info.data.get("scheme", ""))
        numbers = [contract.number for contract in values]
        if len(set(numbers)) != len(numbers):
            raise ValueError("a contract number appears twice")
        return tuple(
            c.model_copy(
                update={
                    "email": c.email and _email(c.email),
                    "phone": c.phone and _phone(c.phone, region),
                }
            )
            for c in values
        )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _email(value: str) -> str:
    try:
        return validators.email(value)
    except validators.Invalid as exc:
        raise ValueError(f"{value!r} is not a valid e-mail address ({exc})") from exc


def _phone(value: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(value, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        reason = re.sub(r"^\(\d+\) ", "", str(exc))
        raise ValueError(f"{value!r} is not a valid phone number ({reason})") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# -- parsing ---------------------------------------------------------------------------


def _plain(node: yaml.Node) -> Any:
    """The node as Python data, every scalar its text except null and booleans."""
    if isinstance(node, yaml.MappingNode):
        return {str(_plain(key)): _plain(value) for key, value in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item) for item in node.value]
    if node.tag == _NULL:
        return None
    if node.tag == _BOOL:
        return yaml.SafeLoader.bool_values[node.value.lower()]
    return node.value


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _compose(text: str) -> yaml.Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ImportRowError(line, f"not valid YAML or JSON: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ImportRowError(1, f"not valid YAML or JSON: {exc}") from exc
    if root is None:
        raise ImportRowError(1, "the file is empty")
    return root


def _row_nodes(root: yaml.Node) -> list[yaml.Node]:
    if not isinstance(root, yaml.MappingNode):
        raise ImportRowError(_line(root), "the file must be a mapping with a 'customers' list")
    for key, value in root.value:
        if key.value == "customers":
            if not isinstance(value, yaml.SequenceNode):
                raise ImportRowError(_line(value), "'customers' must be a list of rows")
            return list(value.value)
    raise ImportRowError(_line(root), "the file has no 'customers' list")


def _message(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    else:
        message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _row(node: yaml.Node) -> CrmRow:
    if not isinstance(node, yaml.MappingNode):
        raise ImportRowError(_line(node), "a customer row must be a mapping of fields")
    try:
        return CrmRow.model_validate(_plain(node))
    except ValidationError as exc:
        reason = "; ".join(_message(error) for error in exc.errors())
        raise ImportRowError(_line(node), reason) from exc


def _rows(nodes: Sequence[yaml.Node]) -> Iterator[tuple[int, CrmRow] | ImportRowError]:
    first_line: dict[tuple[str, str], int] = {}
    for node in nodes:
        try:
            row = _row(node)
        except ImportRowError as exc:
            yield exc
            continue
        line = _line(node)
        earlier = first_line.setdefault((row.scheme, row.tax_id), line)
        if earlier != line:
            yield ImportRowError(line, f"{row.scheme} {row.tax_id} is already at line {earlier}")
            continue
        yield line, row


def parse_crm(text: str) -> tuple[list[CrmRow], list[ImportRowError]]:
    """The valid rows and the errors of the others. ImportRowError if the file is unusable."""
    rows: list[CrmRow] = []
    errors: list[ImportRowError] = []
    for item in _rows(_row_nodes(_compose(text))):
        if isinstance(item, ImportRowError):
            errors.append(item)
        else:
            rows.append(item[1])
    return rows, errors


def read_crm(
    path: str | Path, mapping: Path | None = None
) -> tuple[list[CrmRow], list[ImportRowError]]:
    """:func:`parse_crm` on a YAML/JSON file (UTF-8, a BOM allowed); a CSV or XLSX file goes
    to :mod:`storage.crm_sheets` (with the column ``mapping`` file, if given)."""
    from storage import crm_columns, crm_sheets  # noqa: PLC0415 - they import this module

    if crm_sheets.is_sheet(Path(path)):
        columns = crm_columns.read_mapping(mapping) if mapping else None
        return crm_sheets.read_sheet(Path(path), columns)
    if mapping is not None:
        raise ImportRowError(1, "a --mapping file is only for CSV and XLSX files")
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRowError(1, f"the file is not UTF-8 text ({exc.reason})") from exc
    return parse_crm(text)


# -- storing ---------------------------------------------------------------------------


async def _upsert(connection: AsyncConnection, row: CrmRow, now: float) -> None:
    values = {"tax_scheme": row.scheme, "tax_id": row.tax_id, "name": row.name}
    statement = dialect_insert(connection, CustomerRow).values(
        **values, flags=row.flags, created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["tax_scheme", "tax_id"],
        set_={"name": statement.excluded.name, "flags": statement.excluded.flags},
    )
    customer_id = (await connection.execute(statement.returning(CustomerRow.id))).scalar_one()
    for table in (CustomerEmailRow, CustomerPhoneRow):
        await connection.execute(delete(table).where(table.customer_id == customer_id))
    if row.emails:
        emails = [{"customer_id": customer_id, "email": email} for email in row.emails]
        await connection.execute(insert(CustomerEmailRow), emails)
    if row.phones:
        phones = [{"customer_id": customer_id, "phone": phone} for phone in row.phones]
        await connection.execute(insert(CustomerPhoneRow), phones)
    await replace_contracts(connection, customer_id, row.contracts, row.consents)


async def store_rows(engine: AsyncEngine, rows: Sequence[CrmRow]) -> int:
    """Upsert ``rows`` in one transaction; their e-mails and phones replace those on record."""
    now = time.time()
    async with engine.begin() as connection:
        for row in rows:
            await _upsert(connection, row, now)
    return len(rows)


async def load_crm(
    engine: AsyncEngine, path: str | Path, *, mapping: Path | None = None, dry_run: bool = False
) -> ImportReport:
    """Validate the file and store its good rows (none with ``dry_run``: ``loaded`` then
    counts the rows that would be). ImportRowError if the file is not usable at all."""
    rows, errors = await asyncio.to_thread(read_crm, path, mapping)
    loaded = len(rows) if dry_run else await store_rows(engine, rows)
    return ImportReport(loaded=loaded, errors=errors)
