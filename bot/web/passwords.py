"""Password policy checks, the common-password list, and argon2id hashing.

The rules come from the flow (:class:`dialogs.steps.handoff.PasswordPolicy`). The page shows
each rule with a live tick (``bot/web/static/password.js`` implements the same checks); the server
re-checks everything here and names each rule that fails.

``bot/web/data/common-passwords.txt`` is the first 10,000 lines (most common first) of the list
Django ships as ``django/contrib/auth/common-passwords.txt.gz`` (Django 5.2, BSD licence),
itself Royce Williams' list of 20,000 common passwords, lower-cased and de-duplicated; see
``bot/web/data/SOURCES.md``. Comparison is case-insensitive, after NFKC normalisation.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dialogs.i18n import N_, NN_
from dialogs.replies import Text, say_n
from dialogs.steps.handoff import PasswordPolicy

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"

RULE_LENGTH = NN_("At least {count} character", "At least {count} characters")
RULE_UPPER = N_("An upper-case letter")
RULE_LOWER = N_("A lower-case letter")
RULE_UPPER_LATIN = N_("A Latin upper-case letter (A–Z)")
RULE_LOWER_LATIN = N_("A Latin lower-case letter (a–z)")
RULE_DIGIT = N_("A digit (0–9)")
RULE_SYMBOL = N_("One of these characters: {symbols}")
RULE_COMMON = N_("Not a commonly used or example password")
RULE_MATCH = N_("Both entries match")
TOO_LONG = NN_("At most {count} character", "At most {count} characters")


def normalise(password: str) -> str:
    """NFKC, as NIST SP 800-63B asks, so the same password typed on two keyboards matches."""
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True, slots=True)
class Rule:
    """One requirement: ``id`` is what the page's script and the tests refer to."""

    id: str
    text: Text
    holds: Callable[[str], bool]


def _has(category: str, latin_range: tuple[str, str] | None) -> Callable[[str], bool]:
    if latin_range is not None:
        low, high = latin_range
        return lambda password: any(low <= char <= high for char in password)
    return lambda password: any(unicodedata.category(char) == category for char in password)


class CommonPasswords:
    """The shipped list, loaded once by the composition root."""

    def __init__(self, path: Path = COMMON_PASSWORDS_FILE) -> None:
        lines = path.read_text(encoding="utf-8").splitlines()
        self.words: frozenset[str] = frozenset(line for line in lines if line)

    def __contains__(self, password: object) -> bool:
        return isinstance(password, str) and password.lower() in self.words


def rules(policy: PasswordPolicy, common: CommonPasswords) -> list[Rule]:
    """The policy's rules in the order the page lists them (without "both entries match")."""
    found = [
        Rule(
            "length",
            say_n(RULE_LENGTH, policy.min_length),
            lambda p: len(p) >= policy.min_length,
        )
    ]
    if policy.upper:
        text = RULE_UPPER_LATIN if policy.latin else RULE_UPPER
        found.append(Rule("upper", Text(text), _has("Lu", ("A", "Z") if policy.latin else None)))
    if policy.lower:
        text = RULE_LOWER_LATIN if policy.latin else RULE_LOWER
        found.append(Rule("lower", Text(text), _has("Ll", ("a", "z") if policy.latin else None)))
    if policy.digit:
        found.append(Rule("digit", Text(RULE_DIGIT), _has("Nd", ("0", "9"))))
    if policy.symbols:
        symbols = policy.symbols
        found.append(
            Rule(
                "symbol",
                Text(RULE_SYMBOL, {"symbols": " ".join(symbols)}),
                lambda p: any(char in symbols for char in p),
            )
        )
    if policy.common or policy.forbidden:
        found.append(Rule("common", Text(RULE_COMMON), _not_common(policy, common)))
    return found


def _not_common(policy: PasswordPolicy, common: CommonPasswords) -> Callable[[str], bool]:
    forbidden = {normalise(word).lower() for word in policy.forbidden}

    def holds(password: str) -> bool:
        if not password:
            return False
        folded = password.lower()
        return folded not in forbidden and not (policy.common and folded in common)

    return holds


def problems(
    policy: PasswordPolicy, common: CommonPasswords, password: str, repeated: str
) -> list[Text]:
    """Every rule ``password`` breaks, named; empty when it may be stored."""
    password, repeated = normalise(password), normalise(repeated)
    failed = [rule.text for rule in rules(policy, common) if not rule.holds(password)]
    if len(password) > policy.max_length:
        failed.append(say_n(TOO_LONG, policy.max_length))
    if password != repeated:
        failed.append(Text(RULE_MATCH))
    return failed


class SecretHasher:
    """argon2id (argon2-cffi's defaults: RFC 9106's low-memory profile) for passwords and PINs."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, secret: str) -> str:
        return self._hasher.hash(normalise(secret))

    def verify(self, stored: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored, normalise(secret))
        except (VerificationError, InvalidHashError):
            return False
