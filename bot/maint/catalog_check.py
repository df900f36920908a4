"""``onboard locales check``: everything a maintainer must fix before customers see it.

Reports, as ``file:line: message``: a template that differs from a fresh extraction (stale),
flow texts missing from the template, and for every locale's ``.po``: untranslated, fuzzy and
obsolete entries, entries missing from or unknown to the template, placeholders that differ
from the source, HTML that Telegram refuses, texts over Telegram's limits, glossary terms not
used, and a ``Plural-Forms`` header that disagrees with CLDR.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from bot.maint.entries import EntryChecker, source_forms
from bot.maint.glossary import Glossary, load_glossaries
from bot.maint.locales import ROOT, build_template
from bot.maint.plurals import header_value, plural_problem
from bot.maint.problems import Problem, shorten
from bot.maint.template_check import (
    Key,
    flow_ids_missing,
    key,
    role_of,
    roles,
    source_text_problems,
    stale_template,
)
from dialogs.i18n import DOMAIN, SOURCE_LOCALE, SUPPORTED_LOCALES

UPDATE = "run `onboard locales update`"


def check_catalogs(root: Path = ROOT, locales: Path | None = None) -> list[Problem]:
    """All problems of the catalogs in ``locales`` (default ``root/locales``), sorted."""
    locales = locales or root / "locales"
    template_path = locales / f"{DOMAIN}.pot"
    committed, problems = _read(template_path, None)
    if committed is None:
        return problems
    fresh = build_template(root)
    kinds = roles(fresh)
    problems += stale_template(committed, fresh, template_path)
    problems += flow_ids_missing(root / "dialogs" / "flows", committed)
    problems += source_text_problems(committed, kinds, template_path)
    glossaries, glossary_problems = load_glossaries(locales / "glossary")
    problems += glossary_problems
    for locale in SUPPORTED_LOCALES:
        if locale != SOURCE_LOCALE:
            po = locales / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
            problems += _check_po(po, locale, committed, kinds, glossaries.get(locale))
    return sorted({_relative(problem, root) for problem in problems})


def _relative(problem: Problem, root: Path) -> Problem:
    path = Path(problem.path)
    if path.is_absolute() and path.is_relative_to(root):
        return Problem(path.relative_to(root).as_posix(), problem.line, problem.message)
    return problem


def _read(path: Path, locale: str | None) -> tuple[Catalog | None, list[Problem]]:
    if not path.exists():
        return None, [Problem(str(path), 1, f"missing; {UPDATE}")]
    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=locale, abort_invalid=True), []
    except PoFileError as exc:
        return None, [Problem(str(path), exc.lineno + 1, f"not a valid PO file: {exc}")]


def _check_po(
    path: Path,
    locale: str,
    template: Catalog,
    kinds: dict[Key, str],
    glossary: Glossary | None,
) -> list[Problem]:
    problems = []
    if path.exists():
        header, line = header_value(path.read_text(encoding="utf-8"), "Plural-Forms")
        plural = plural_problem(locale, header)
        if plural:
            problems.append(Problem(str(path), line, plural))
    catalog, unreadable = _read(path, locale)
    if catalog is None:
        return problems + unreadable
    problems += _entries(path, catalog, template, kinds, EntryChecker(locale, glossary))
    return problems


def _entries(
    path: Path,
    catalog: Catalog,
    template: Catalog,
    kinds: dict[Key, str],
    checker: EntryChecker,
) -> Iterator[Problem]:
    wanted = {key(m) for m in template if m.id}
    present = set()
    for message in catalog:
        if not message.id:
            continue
        present.add(key(message))
        text = shorten(source_forms(message)[0])
        if key(message) not in wanted:
            yield Problem(
                str(path), message.lineno or 1, f"{text} is not in the template; {UPDATE}"
            )
            continue
        role = kinds.get(key(message), role_of(message))
        for problem in checker.problems(message, role):
            yield Problem(str(path), message.lineno or 1, f"{text}: {problem}")
    for obsolete in catalog.obsolete.values():
        text = shorten(source_forms(obsolete)[0])
        hint = "delete the #~ lines or run `onboard locales update --drop-obsolete`"
        yield Problem(str(path), obsolete.lineno or 1, f"obsolete entry {text}: {hint}")
    for missing in sorted(wanted - present, key=str):
        entry = template.get(missing[0], missing[1])
        text = shorten(missing[0] if isinstance(missing[0], str) else missing[0][0])
        line = (entry.lineno if entry is not None else None) or 1
        yield Problem(str(path), 1, f"{text} (template line {line}) is missing; {UPDATE}")
