"""Which column of a spreadsheet is which CRM field: the header names exports use, in English
and in the customers' languages (``HEADERS``), or a mapping file (``--mapping``, YAML)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dialogs.errors import ImportRowError
from storage.crm_import import _message

FIELDS = ("tax_id", "scheme", "name", "region", "emails", "phones", "consents")
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


def fold(text: str) -> str:
    """A header compared: lower case, no accents, no spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


KNOWN = {fold(alias): name for name, aliases in HEADERS.items() for alias in (name, *aliases)}
# A tax-number header that names its scheme: no scheme column is needed then.
SCHEME_OF_HEADER = {
    fold(alias): scheme
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


@dataclass
class Columns:
    """Which cell is which field, found from the header row."""

    fields: dict[int, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as written
    scheme: str | None = None  # the scheme the tax-number header names (e.g. "ЕИК")


def columns(header: Sequence[str], mapping: ColumnMapping) -> Columns:
    chosen = Columns()
    explicit = {fold(name): target for name, target in mapping.columns.items()}
    for index, raw in enumerate(header):
        name = raw.strip()
        folded = fold(name)
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
