"""A small project in tmp_path (code, a flow, catalogs, the real glossaries) that passes
``locales check``; each test breaks one thing in it. The repo's catalogs are never touched."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.maint.catalog_check import check_catalogs
from bot.maint.locales import extract_template, update_catalogs
from bot.maint.plurals import integer_categories

REPO = Path(__file__).resolve().parents[2]
CODE = """from dialogs.i18n import N_, NN_

HELLO = N_("Hello {name}, welcome.")
TRIES = NN_("{count} try left.", "{count} tries left.")
CONTRACT = N_("Please enter your contract number.")
"""
FLOW = """id: demo
language: en
title: "Demo flow"
start: eik
steps:
  eik:
    kind: ask
    text: "Enter your EIK."
    next: pick
  pick:
    kind: choose
    text: "What next?"
    options:
      - label: "Go on"
        value: go
        next: done
      - label: "Talk to a person"
        value: human
        next: "@human"
  done:
    kind: end
    text: "Done."
"""
GLOSSED = {"EIK": "ЕИК", "contract number": "numer umowy"}


def translate(locale: str, text: str) -> str:
    for english, term in GLOSSED.items():
        text = text.replace(english, term)
    return f"{text} [{locale}]"


def po_path(root: Path, locale: str) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / "messages.po"


def translate_all(root: Path) -> None:
    for locale in ("bg", "hu", "kk", "de", "pl"):
        path = po_path(root, locale)
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, str):
                message.string = translate(locale, message.id)
            else:
                forms = len(integer_categories(locale))
                message.string = tuple(translate(locale, message.id[1]) for _ in range(forms))
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_by_file=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "bot").mkdir(parents=True)
    (root / "bot" / "texts.py").write_text(CODE, encoding="utf-8")
    (root / "dialogs" / "flows").mkdir(parents=True)
    (root / "dialogs" / "flows" / "demo.yaml").write_text(FLOW, encoding="utf-8")
    (root / "locales").mkdir()
    shutil.copytree(REPO / "locales" / "glossary", root / "locales" / "glossary")
    extract_template(root)
    update_catalogs(root)
    translate_all(root)
    return root


def check(root: Path) -> list[str]:
    return [str(problem) for problem in check_catalogs(root)]


def line_of(path: Path, pattern: str) -> int:
    """1-based line of the first line matching ``pattern`` (a regex)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"{pattern!r} not in {path}")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
