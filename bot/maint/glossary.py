"""Per-locale glossaries: terms that must be translated the same way everywhere.

``locales/glossary/<locale>.yaml`` lists terms; when the English source contains one of a
term's ``source`` phrases (whole words, any case), the translation must contain one of its
``accept`` forms (any case, anywhere — so suffixes of agglutinative languages still match, and
inflected forms that change the stem are listed explicitly). ``unless`` lists English phrases
in which a source word means something else ("account manager" is not the customer's account)::

    locale: pl
    terms:
      - target: numer umowy
        source: [contract number]
        accept: [numer umowy, numeru umowy, numerem umowy, numerze umowy]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.maint.problems import Problem


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str
    source: list[str] = Field(min_length=1)
    accept: list[str] = Field(default_factory=list)
    # English phrases where a source word means something else ("account manager").
    unless: list[str] = Field(default_factory=list)

    def forms(self) -> list[str]:
        return [self.target, *self.accept]

    def found_in(self, english: str) -> str | None:
        """The source phrase ``english`` contains, as whole words (None: none does)."""
        for phrase in self.unless:
            english = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", english, flags=re.I)
        for phrase in self.source:
            if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", english, re.IGNORECASE):
                return phrase
        return None

    def used_in(self, translation: str) -> bool:
        text = translation.casefold()
        return any(form.casefold() in text for form in self.forms())


class GlossaryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: str
    terms: list[Term]


@dataclass(frozen=True, slots=True)
class Glossary:
    locale: str
    terms: tuple[Term, ...]
    path: Path

    def problems(self, english: str, translation: str) -> list[str]:
        """Glossary terms the translation misses."""
        missing = []
        for term in self.terms:
            phrase = term.found_in(english)
            if phrase is not None and not term.used_in(translation):
                forms = ", ".join(f"«{form}»" for form in term.forms())
                missing.append(f"glossary: {phrase!r} must be translated as one of {forms}")
        return missing


def load_glossaries(directory: Path) -> tuple[dict[str, Glossary], list[Problem]]:
    """Every ``<locale>.yaml`` in ``directory``; broken files become problems."""
    glossaries: dict[str, Glossary] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = GlossaryFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problems.append(Problem(str(path), line, f"glossary is not valid YAML: {exc}"))
            continue
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            problems.append(Problem(str(path), 1, f"glossary {where}: {error['msg']}"))
            continue
        if data.locale != path.stem:
            problems.append(Problem(str(path), 1, f"glossary says locale {data.locale!r}"))
        glossaries[path.stem] = Glossary(data.locale, tuple(data.terms), path)
    return glossaries, problems
