"""Catalog maintenance on top of Babel: extract (Python + flow files), update, compile.

``messages.pot`` is built from the Python sources (``N_`` and ``NN_:1,2`` markers) and from
every flow file through :func:`bot.maint.flow_texts.extract_flow`, which locates each flow text at
its step and tells translators where it appears and what its placeholders hold.
``onboard locales check`` (:mod:`bot.maint.catalog_check`) finds what is missing or broken.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.maint.flow_texts import extract_flow
from dialogs.i18n import DOMAIN, SOURCE_LOCALE, SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS: dict[str, Any] = {"N_": None, "NN_": (1, 2)}
PYTHON_PACKAGES = ("bot", "dialogs", "storage")

PLURAL_FORMS = {
    # Babel's built-in table says "nplurals=1" for Hungarian; CLDR has one/other, and
    # "1 próbálkozás" / "2 próbálkozás" differ only in agreement, so we keep two forms on purpose.
    "hu": "nplurals=2; plural=(n != 1);",
}


def _sources(root: Path) -> Iterator[tuple[Path, Any]]:
    for package in PYTHON_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield path, "python"
    for path in sorted((root / "dialogs" / "flows").glob("*.yaml")):
        yield path, extract_flow


def build_template(root: Path = ROOT) -> Catalog:
    catalog = Catalog(project="onboard", msgid_bugs_address="support@example.com", fuzzy=False)
    for path, method in _sources(root):
        relative = path.relative_to(root).as_posix()
        with path.open("rb") as handle:
            for lineno, message, comments, context in extract(
                method, handle, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
            ):
                catalog.add(
                    message, None, [(relative, lineno)], auto_comments=comments, context=context
                )
    return catalog


def locales_dir(root: Path = ROOT) -> Path:
    return root / "locales"


def extract_template(root: Path = ROOT) -> Path:
    target = locales_dir(root) / f"{DOMAIN}.pot"
    write_stable(target, build_template(root), width=100, sort_by_file=True, omit_header=False)
    return target


GENERATED_BY = re.compile(rb'^"Generated-By: [^"]*"\n', re.MULTILINE)
DATES = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): [^"]*"\n', re.MULTILINE)


def write_stable(path: Path, catalog: Catalog, **options: Any) -> bool:
    """Write ``catalog`` unless only its dates would change, and without Babel's version in
    the header: running ``extract`` or ``update`` twice gives translators no diff."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, **options)
    new = GENERATED_BY.sub(b"", buffer.getvalue())
    if path.exists() and DATES.sub(b"", path.read_bytes()) == DATES.sub(b"", new):
        return False
    path.write_bytes(new)
    return True


def _po_path(root: Path, locale: str) -> Path:
    return locales_dir(root) / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update_catalogs(root: Path = ROOT, *, drop_obsolete: bool = False) -> list[Path]:
    """Merge the template into each locale's catalog, keeping translators' work.

    Entries gone from the template stay as ``#~`` (obsolete) lines, so a translation can be
    picked up again, unless ``drop_obsolete``; ``onboard locales check`` reports them."""
    with (locales_dir(root) / f"{DOMAIN}.pot").open("rb") as handle:
        template = read_po(handle)
    written = []
    for locale in SUPPORTED_LOCALES:
        if locale == SOURCE_LOCALE:
            continue
        path = _po_path(root, locale)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            catalog.update(template, update_header_comment=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="onboard", fuzzy=False)
            catalog.update(template)
        if locale in PLURAL_FORMS:
            catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS[locale])]
        write_stable(path, catalog, width=100, sort_by_file=True, ignore_obsolete=drop_obsolete)
        written.append(path)
    return written


def compile_catalogs(root: Path = ROOT) -> list[Path]:
    written = []
    for locale in SUPPORTED_LOCALES:
        path = _po_path(root, locale)
        if locale == SOURCE_LOCALE or not path.exists():
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        target = path.with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(target)
    return written
