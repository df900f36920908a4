"""``onboard locales check`` names file, line and message for each way a catalog breaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.maint.conftest import check, line_of, po_path, replace_in


def test_a_complete_project_passes(project: Path) -> None:
    assert check(project) == []


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def test_untranslated_entry_is_named_with_file_and_line(project: Path) -> None:
    po = po_path(project, "de")
    replace_in(po, 'msgstr "Done. [de]"', 'msgstr ""')
    line = line_of(po, r'^msgid "Done\."')
    assert (
        only(check(project)) == f"locales/de/LC_MESSAGES/messages.po:{line}: 'Done.': untranslated"
    )


def test_fuzzy_entry(project: Path) -> None:
    po = po_path(project, "kk")
    replace_in(po, 'msgid "Done."', '#, fuzzy\nmsgid "Done."')
    line = line_of(po, r'^msgid "Done\."')
    assert only(check(project)) == (
        f"locales/kk/LC_MESSAGES/messages.po:{line}: 'Done.': "
        "fuzzy translation: review it, then remove the fuzzy flag"
    )


def test_placeholder_that_differs_from_the_source(project: Path) -> None:
    po = po_path(project, "bg")
    replace_in(po, "Hello {name}, welcome. [bg]", "Hello {ime}, welcome. [bg]")
    line = line_of(po, r'^msgid "Hello \{name\}')
    problem = only(check(project))
    assert problem.startswith(f"locales/bg/LC_MESSAGES/messages.po:{line}: 'Hello {{name}}")
    assert "placeholders differ" in problem
    assert "{ime}" in problem


def test_plural_form_with_an_unknown_placeholder(project: Path) -> None:
    po = po_path(project, "pl")
    replace_in(po, 'msgstr[2] "{count} tries left. [pl]"', 'msgstr[2] "{cnt} tries left. [pl]"')
    problem = only(check(project))
    assert "plural form 2: unknown placeholders {cnt}" in problem


@pytest.mark.parametrize(
    ("translation", "expected"),
    [
        ("<blink>Done.</blink>", "HTML tag <blink> is not accepted by Telegram"),
        ("<b>Done.", "tag <b> is never closed"),
        ("<b>Done.</i>", "closing tag </i> does not match an open tag"),
        ("Done & dusted.", "a bare '&' must be written as &amp;"),
        ("Done <3", "a bare '<' or '>' must be written as &lt; or &gt;"),
    ],
)
def test_html_telegram_refuses(project: Path, translation: str, expected: str) -> None:
    po = po_path(project, "hu")
    replace_in(po, 'msgstr "Done. [hu]"', f'msgstr "{translation}"')
    line = line_of(po, r'^msgid "Done\."')
    problems = check(project)
    assert problems
    assert all(
        p.startswith(f"locales/hu/LC_MESSAGES/messages.po:{line}: 'Done.'") for p in problems
    )
    assert any(expected in p for p in problems), problems


def test_unbalanced_closing_tag(project: Path) -> None:
    po = po_path(project, "hu")
    replace_in(po, 'msgstr "Done. [hu]"', 'msgstr "<b>Done.</b></b>"')
    problems = check(project)
    assert any("closing tag </b> does not match an open tag" in p for p in problems), problems


def test_message_over_telegrams_limit(project: Path) -> None:
    po = po_path(project, "de")
    replace_in(po, 'msgstr "Done. [de]"', f'msgstr "{"x" * 4097}"')
    problem = only(check(project))
    assert problem.endswith("4097 characters, over the 4096-character limit for a message")


def test_button_label_over_our_64_character_limit(project: Path) -> None:
    po = po_path(project, "de")
    replace_in(po, 'msgstr "Go on [de]"', f'msgstr "{"W" * 65}"')
    line = line_of(po, r'^msgid "Go on"')
    assert only(check(project)) == (
        f"locales/de/LC_MESSAGES/messages.po:{line}: 'Go on': "
        "65 characters, over the 64-character limit for a button"
    )


def test_hungarian_plural_forms_from_babels_table_are_wrong(project: Path) -> None:
    po = po_path(project, "hu")
    replace_in(po, "nplurals=2; plural=(n != 1);", "nplurals=1; plural=0;")
    line = line_of(po, "Plural-Forms")
    problems = check(project)
    expected = (
        f"locales/hu/LC_MESSAGES/messages.po:{line}: "
        "Plural-Forms says nplurals=1 but CLDR has 2 forms for hu (one, other)"
    )
    assert expected in problems


def test_polish_plural_expression_that_disagrees_with_cldr(project: Path) -> None:
    po = po_path(project, "pl")
    text = po.read_text(encoding="utf-8")
    start = text.index('"Plural-Forms:')
    end = text.index('\\n"', start) + 3
    po.write_text(
        text[:start]
        + '"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n<5 ? 1 : 2);\\n"'
        + text[end:],
        encoding="utf-8",
    )
    problems = check(project)
    assert any("Plural-Forms picks form 1 for n=0, but CLDR says 'many'" in p for p in problems)


def test_glossary_term_not_used(project: Path) -> None:
    po = po_path(project, "pl")
    replace_in(po, "Please enter your numer umowy. [pl]", "Podaj numer kontraktu.")
    line = line_of(po, r'^msgid "Please enter your contract number\."')
    problem = only(check(project))
    assert problem.startswith(f"locales/pl/LC_MESSAGES/messages.po:{line}:")
    assert "glossary: 'contract number' must be translated as one of «numer umowy»" in problem


def test_glossary_accepts_listed_inflected_forms(project: Path) -> None:
    po = po_path(project, "pl")
    replace_in(po, "Please enter your numer umowy. [pl]", "Brak numeru umowy.")
    assert check(project) == []


def test_flow_text_missing_from_the_template(project: Path) -> None:
    flow = project / "dialogs" / "flows" / "demo.yaml"
    replace_in(flow, '"What next?"', '"What now?"')
    problems = check(project)
    line = line_of(flow, "^  pick:")
    assert (
        f"dialogs/flows/demo.yaml:{line}: step pick, text: 'What now?' is not in the template; "
        "run `onboard locales extract` and `onboard locales update`"
    ) in problems
    stale = [p for p in problems if "stale template" in p]
    assert any("'What now?' (from dialogs/flows/demo.yaml:" in p for p in stale), stale
    assert any("'What next?' is no longer used" in p for p in stale), stale


def test_template_entry_no_longer_extracted_is_stale(project: Path) -> None:
    code = project / "bot" / "texts.py"
    replace_in(code, 'CONTRACT = N_("Please enter your contract number.")\n', "")
    pot = project / "locales" / "messages.pot"
    line = line_of(pot, r'^msgid "Please enter your contract number\."')
    problem = only(check(project))
    assert problem == (
        f"locales/messages.pot:{line}: stale template: 'Please enter your contract number.' "
        "is no longer used; run `onboard locales extract` and `onboard locales update`"
    )


def test_obsolete_entry_in_a_catalog(project: Path) -> None:
    po = po_path(project, "kk")
    with po.open("a", encoding="utf-8") as handle:
        handle.write('\n#~ msgid "Gone"\n#~ msgstr "Кетті"\n')
    line = line_of(po, '^#~ msgid "Gone"')
    assert only(check(project)) == (
        f"locales/kk/LC_MESSAGES/messages.po:{line}: obsolete entry 'Gone': "
        "delete the #~ lines or run `onboard locales update --drop-obsolete`"
    )


def test_catalog_entry_unknown_to_the_template_and_entry_missing(project: Path) -> None:
    po = po_path(project, "bg")
    replace_in(po, 'msgid "Done."', 'msgid "Finished."')
    problems = check(project)
    assert any("'Finished.' is not in the template" in p for p in problems), problems
    assert any(p.startswith("locales/bg/LC_MESSAGES/messages.po:1: 'Done.'") for p in problems)


def test_broken_po_syntax(project: Path) -> None:
    po = po_path(project, "de")
    replace_in(po, 'msgid "Done."', 'msgid "Done."\nhello world')
    line = line_of(po, "^hello world")
    problem = only(check(project))
    assert problem.startswith(f"locales/de/LC_MESSAGES/messages.po:{line}: not a valid PO file")


def test_english_source_is_checked_for_telegram_too(project: Path) -> None:
    code = project / "bot" / "texts.py"
    replace_in(code, "Hello {name}, welcome.", "Hello {name} & welcome.")
    for path in (project / "locales").rglob("*.po*"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Hello {name}, welcome.", "Hello {name} & welcome."))
    problems = check(project)
    assert any(
        p.startswith("locales/messages.pot:") and "a bare '&' must be written as &amp;" in p
        for p in problems
    ), problems


def test_broken_glossary_file(project: Path) -> None:
    (project / "locales" / "glossary" / "de.yaml").write_text("locale: de\nterms: [{x: 1}]\n")
    problems = check(project)
    assert any(p.startswith("locales/glossary/de.yaml:1: glossary terms.0") for p in problems)
