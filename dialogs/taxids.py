"""Company and tax identifiers, on python-stdnum where it has them. The chat's answer
validators and the CRM import both use these functions, so an id typed in the chat becomes
exactly what the import stored.

What is unambiguous is accepted and normalised: spaces, dashes and dots between the digits, a
country prefix, and digits of any script (full-width ``８５６…`` from a Japanese or Chinese
keyboard, Arabic-Indic …) which become ASCII digits.

python-stdnum validates the 9-digit Bulgarian EIK (BULSTAT) but not the 13-digit form given to
branches; that check digit follows the published BULSTAT algorithm (Наредба за БУЛСТАТ).
"""

from __future__ import annotations

import unicodedata

from stdnum import exceptions as stdnum_errors
from stdnum.bg import vat as bg_vat
from stdnum.pl import nip as pl_nip

_WEIGHTS_13 = ((2, 7, 3, 5), (4, 9, 5, 7))


class CheckDigitError(ValueError):
    """The id has the right form but its check digit does not match: a typo somewhere."""


def ascii_digits(value: str) -> str:
    """Every decimal digit of any script as its ASCII digit; other characters unchanged."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)


def compact(value: str, prefix: str = "") -> str:
    """Without spaces, dashes and dots, upper-case, ASCII digits, ``prefix`` removed."""
    cleaned = unicodedata.normalize("NFKC", ascii_digits(value))
    cleaned = "".join(cleaned.split()).replace("-", "").replace(".", "").upper()
    return cleaned.removeprefix(prefix) if prefix else cleaned


def _digits(value: str) -> str:
    return compact(value)


def _eik13_check_digit(digits: str) -> str:
    tail = [int(d) for d in digits[8:12]]
    for weights in _WEIGHTS_13:
        remainder = sum(w * d for w, d in zip(weights, tail, strict=True)) % 11
        if remainder != 10:
            return str(remainder)
    return "0"


def normalise_bg_eik(value: str) -> str:
    """The EIK as digits, or ValueError. Accepts spaces, dashes and a ``BG`` prefix."""
    digits = _digits(value).upper().removeprefix("BG")
    if not digits.isdigit() or len(digits) not in (9, 13):
        raise ValueError("an EIK has 9 or 13 digits")
    try:
        bg_vat.validate(digits[:9])
    except stdnum_errors.ValidationError as exc:
        raise CheckDigitError("the EIK check digit does not match") from exc
    if len(digits) == 13 and digits[12] != _eik13_check_digit(digits):
        raise CheckDigitError("the EIK check digit does not match")
    return digits


def normalise_pl_nip(value: str) -> str:
    """The NIP as 10 digits, or ValueError (:class:`CheckDigitError` for a wrong check digit).
    Accepts ``856-734-62-15``, ``856 734 62 15`` and a ``PL`` prefix."""
    digits = compact(value, "PL")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 10):
        raise ValueError("a NIP has 10 digits")
    if not pl_nip.is_valid(digits):
        raise CheckDigitError("the NIP check digit does not match")
    return digits


def is_valid_bg_eik(value: str) -> bool:
    try:
        normalise_bg_eik(value)
    except ValueError:
        return False
    return True
