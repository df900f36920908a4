"""Extraction from flow files, CLDR plural counts, and the repo's own catalogs and glossaries."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.maint.catalog_check import check_catalogs
from bot.maint.flow_texts import flow_texts
from bot.maint.glossary import load_glossaries
from bot.maint.locales import build_template, extract_template, update_catalogs
from bot.maint.plurals import header_value, integer_categories, plural_problem
from dialogs.flow import FlowRegistry
from tests.maint.conftest import REPO, line_of, replace_in

FLOW_FILE = "dialogs/flows/bg-subscription-portal.yaml"


def test_every_flow_text_lands_in_the_template_located_at_its_step() -> None:
    template = build_template(REPO)
    for flow in FlowRegistry.from_directory():
        for text in flow_texts(flow):
            message = template[text.message]
            assert message is not None, text
            files = {file for file, _ in message.locations}
            assert f"dialogs/flows/{Path(flow.source).name}" in files
            assert any(f"flow {flow.id}" in note for note in message.auto_comments)


def test_translator_comment_says_where_and_what_each_placeholder_holds() -> None:
    template = build_template(REPO)
    code_text = next(
        t
        for t in flow_texts(FlowRegistry.from_directory().get("bg-subscription-portal"))  # type: ignore[arg-type]
        if t.step_id == "code" and t.field == "text"
    )
    message = template[code_text.message]
    assert (FLOW_FILE, line_of(REPO / FLOW_FILE, "^  code:")) in message.locations
    note = " ".join(message.auto_comments)
    assert "flow bg-subscription-portal, step code (code), text: a chat message" in note
    assert "{address} = the e-mail address or phone number the code was sent to" in note
    assert "{length} = the number of digits in the code" in note
    button = template["Create my password"]
    assert "button label (at most 64 characters)" in " ".join(button.auto_comments)


def test_plural_forms_come_from_cldr() -> None:
    """The reference is CLDR (Babel's ``Locale.plural_form``), whatever Babel's own gettext
    table says in the installed release."""
    assert integer_categories("hu") == ["one", "other"]
    assert integer_categories("pl") == ["one", "few", "many"]
    assert [len(integer_categories(x)) for x in ("bg", "kk", "de")] == [2, 2, 2]


@pytest.mark.parametrize("locale", ["bg", "hu", "kk", "de", "pl"])
def test_each_catalogs_plural_forms_match_cldr(locale: str) -> None:
    po = REPO / "locales" / locale / "LC_MESSAGES" / "messages.po"
    header, _line = header_value(po.read_text(encoding="utf-8"), "Plural-Forms")
    assert header is not None
    assert plural_problem(locale, header) is None


def test_glossaries_hold_the_seed_terms() -> None:
    glossaries, problems = load_glossaries(REPO / "locales" / "glossary")
    assert problems == []
    targets = {loc: {t.target for t in g.terms} for loc, g in glossaries.items()}
    seed = {
        "bg": {"ЕИК", "ПИН код"},
        "hu": {"Ügyfélportál", "Szerződő"},
        "kk": {"Жеке кабинет", "Растау коды"},
        "de": {"Service-PIN", "Zwei-Faktor-Authentifizierung"},
        "pl": {"NIP", "numer umowy", "numer seryjny"},
    }
    review = {  # issue 17, items 15-18: a native review's terms (buttons, "account")
        "bg": {"Продължи", "Изпрати нов код", "Пропусни"},
        "hu": {"fiók"},
        "kk": {"есептік жазба"},
        "de": {"Konto"},
        "pl": set(),
    }
    assert set(targets) == set(seed)
    for locale, terms in targets.items():
        assert seed[locale] | review[locale] <= terms, locale


def test_repo_catalogs_have_no_problem_but_freshness() -> None:
    """Everything translated today is right; only texts added since the last extraction
    (other work in progress) may be reported, and `make test` runs the full check."""
    freshness = ("stale template", "is not in the template")
    problems = [str(p) for p in check_catalogs(REPO)]
    assert [p for p in problems if not any(word in p for word in freshness)] == []


def test_cli_check_exits_1_and_names_the_problem(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(REPO / "locales", locales)
    po = locales / "hu" / "LC_MESSAGES" / "messages.po"
    replace_in(po, "nplurals=2; plural=(n != 1);", "nplurals=1; plural=0;")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "locales", "check", "--dir", str(locales)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    line = line_of(po, "Plural-Forms")
    assert (
        f"{po}:{line}: Plural-Forms says nplurals=1 but CLDR has 2 forms for hu (one, other)"
        in result.stdout
    )


def test_make_test_runs_the_catalog_check() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    suite = makefile.split("\nsuite:", 1)[1].split("\n\n", 1)[0]
    assert "onboard locales check" in suite
    assert "onboard flows check" in suite
    assert "suite" in makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]


def test_extract_and_update_are_stable(tmp_path: Path) -> None:
    """Running them again gives translators no diff: no new date, no Babel version."""
    for part in ("bot", "dialogs", "storage", "locales"):
        shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("*.mo"))
    extract_template(tmp_path)
    update_catalogs(tmp_path)
    catalogs = sorted((tmp_path / "locales").rglob("*.po*"))
    first = {path: path.read_bytes() for path in catalogs}
    assert all(b"Generated-By" not in text for text in first.values())
    extract_template(tmp_path)
    update_catalogs(tmp_path)
    assert {path: path.read_bytes() for path in catalogs} == first


def test_pybabel_with_babel_cfg_extracts_what_onboard_does(tmp_path: Path) -> None:
    pybabel = Path(sys.executable).parent / "pybabel"
    target = tmp_path / "messages.pot"
    command = [str(pybabel), "extract", "-F", "babel.cfg", "--no-default-keywords"]
    command += ["-k", "N_", "-k", "NN_:1,2", "-c", "TRANSLATORS:", "-o", str(target), "."]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    with target.open("rb") as handle:
        extracted = {message.id for message in read_po(handle) if message.id}
    assert extracted == {message.id for message in build_template(REPO) if message.id}
