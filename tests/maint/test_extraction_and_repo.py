"""Extraction from flow files, CLDR plural counts, and the repo's own catalogs and glossaries."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.plurals import get_plural

from bot.locales import build_template
from bot.maint.catalog_check import check_catalogs
from bot.maint.flow_texts import flow_texts
from bot.maint.glossary import load_glossaries
from bot.maint.plurals import integer_categories
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


def test_plural_forms_come_from_cldr_not_babels_table() -> None:
    assert integer_categories("hu") == ["one", "other"]
    assert get_plural("hu").num_plurals == 1  # Babel's gettext table: the wrong one
    assert integer_categories("pl") == ["one", "few", "many"]
    assert [len(integer_categories(x)) for x in ("bg", "kk", "de")] == [2, 2, 2]


def test_glossaries_hold_the_seed_terms() -> None:
    glossaries, problems = load_glossaries(REPO / "locales" / "glossary")
    assert problems == []
    targets = {loc: {t.target for t in g.terms} for loc, g in glossaries.items()}
    assert targets == {
        "bg": {"ЕИК", "ПИН код"},
        "hu": {"Ügyfélportál", "Szerződő"},
        "kk": {"Жеке кабинет", "Растау коды"},
        "de": {"Service-PIN", "Zwei-Faktor-Authentifizierung"},
        "pl": {"NIP", "numer umowy", "numer seryjny"},
    }


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
        [sys.executable, "-m", "bot.cli", "locales", "check", "--dir", str(locales)],
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
    check_target = makefile.split("\ncheck:", 1)[1].split("\n\n", 1)[0]
    assert "onboard locales check" in check_target
    assert "check" in makefile.split("\ntest:", 1)[1].splitlines()[0]
