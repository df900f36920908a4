"""Company and tax identifiers, on python-stdnum where it has them.

python-stdnum validates the 9-digit Bulgarian EIK (BULSTAT) but not the 13-digit form given to
branches; that check digit follows the published BULSTAT algorithm (Наредба за БУЛСТАТ).
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum.bg import vat as bg_vat

_WEIGHTS_13 = ((2, 7, 3, 5), (4, 9, 5, 7))


def _digits(value: str) -> str:
    return "".join(value.split()).replace("-", "")


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
        raise ValueError("the EIK check digit does not match") from exc
    if len(digits) == 13 and digits[12] != _eik13_check_digit(digits):
        raise ValueError("the EIK check digit does not match")
    return digits


def is_valid_bg_eik(value: str) -> bool:
    try:
        normalise_bg_eik(value)
    except ValueError:
        return False
    return True
