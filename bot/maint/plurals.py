"""The ``Plural-Forms`` header checked against CLDR (through Babel's ``Locale.plural_form``).

gettext picks a form by an integer ``n``, so the forms a catalog needs are the CLDR categories
that some integer reaches, in CLDR's order (zero, one, two, few, many, other). Babel's own
gettext table (``babel.messages.plurals``) is *not* the reference: it says ``nplurals=1`` for
Hungarian, whereas CLDR has one/other — "1 próbálkozás" vs "2 próbálkozás" — so two forms.
"""

from __future__ import annotations

import gettext
import re

from babel import Locale

CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
SAMPLES = range(1001)
HEADER = re.compile(r"^\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*(.+?)\s*;?\s*$")


def integer_categories(locale: str) -> list[str]:
    """CLDR plural categories that integers reach in ``locale``, in CLDR order."""
    rule = Locale.parse(locale).plural_form
    reached = {rule(n) for n in SAMPLES}
    return [category for category in CLDR_ORDER if category in reached]


def plural_problem(locale: str, header: str | None) -> str | None:
    """Why the ``Plural-Forms`` value disagrees with CLDR for ``locale`` (None: it agrees)."""
    expected = integer_categories(locale)
    wanted = f"CLDR has {len(expected)} forms for {locale} ({', '.join(expected)})"
    if header is None:
        return f"no Plural-Forms header; {wanted}"
    match = HEADER.match(header)
    if match is None:
        return f"Plural-Forms {header!r} is not 'nplurals=N; plural=EXPR;'"
    nplurals = int(match.group(1))
    if nplurals != len(expected):
        return f"Plural-Forms says nplurals={nplurals} but {wanted}"
    try:
        pick = gettext.c2py(match.group(2))
    except (ValueError, SyntaxError) as exc:
        return f"Plural-Forms expression {match.group(2)!r} is not valid: {exc}"
    rule = Locale.parse(locale).plural_form
    for n in SAMPLES:
        form, category = pick(n), rule(n)
        if form != expected.index(category):
            return (
                f"Plural-Forms picks form {form} for n={n}, but CLDR says {category!r} "
                f"(form {expected.index(category)} of {', '.join(expected)})"
            )
    return None


def header_value(po_text: str, name: str) -> tuple[str | None, int]:
    """A header field of a .po file and its line (the header is the first ``msgstr``)."""
    lines = po_text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("msgstr")), None)
    if start is None:
        return None, 1
    for number in range(start, len(lines)):
        line = lines[number]
        if number > start and not line.startswith('"'):
            break
        if f'"{name}:' in line:
            value = "".join(_string(line) for line in _continued(lines, number))
            return value.split(":", 1)[1].split("\\n", 1)[0].strip(), number + 1
    return None, start + 1


def _continued(lines: list[str], number: int) -> list[str]:
    """The header line that starts a field, plus following lines until the field's ``\\n``."""
    block = [lines[number]]
    while not block[-1].rstrip().endswith('\\n"') and number + 1 < len(lines):
        number += 1
        if not lines[number].startswith('"'):
            break
        block.append(lines[number])
    return block


def _string(line: str) -> str:
    text = line.strip()
    if text.startswith("msgstr "):
        text = text[len("msgstr ") :]
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text
