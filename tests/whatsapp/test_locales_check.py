"""``onboard locales check`` holds the labels only WhatsApp shows to WhatsApp's 20-character
button title (bot/maint/whatsapp_text.py), and the repository's catalogs pass it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.maint.catalog_check import check_catalogs
from bot.maint.locales import extract_template, update_catalogs
from bot.maint.whatsapp_text import whatsapp_problems
from tests.maint.conftest import check, line_of, po_path, replace_in, translate_all

pytestmark = pytest.mark.whatsapp
REPO = Path(__file__).resolve().parents[2]


def test_a_whatsapp_label_over_20_characters_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "bot").mkdir(parents=True)
    (root / "bot" / "wa.py").write_text(
        'from dialogs.i18n import N_\n\nUSE = N_("Use this number")\n', encoding="utf-8"
    )
    (root / "dialogs" / "flows").mkdir(parents=True)
    (root / "locales").mkdir()
    extract_template(root)
    update_catalogs(root)
    translate_all(root)
    assert check(root) == []  # "Use this number [pl]": 20 characters
    po = po_path(root, "pl")
    replace_in(po, 'msgstr "Use this number [pl]"', 'msgstr "Skorzystaj z tego numeru"')
    line = line_of(po, r'^msgid "Use this number"')
    assert check(root) == [
        f"locales/pl/LC_MESSAGES/messages.po:{line}: 'Use this number': "
        "24 characters, over WhatsApp's 20-character button title"
    ]


def test_flow_labels_are_cut_only_beyond_a_list_rows_description() -> None:
    assert whatsapp_problems("x" * 72, "button") == []
    assert whatsapp_problems("x" * 73, "button") == [
        "73 characters, over the 72 characters WhatsApp shows of a button label "
        "(a list row's description)"
    ]
    assert whatsapp_problems("x" * 300, "message") == []


def test_the_repository_catalogs_pass() -> None:
    assert [str(p) for p in check_catalogs(REPO)] == []
