"""Tax identifiers of the CRM schemes, validated and reduced to the digits we store and match.

=========  ==========================================================================
scheme     accepted form
=========  ==========================================================================
bg_eik     Bulgarian EIK/BULSTAT: 9 digits (legal entity, python-stdnum ``bg.vat``) or
           13 digits (branch; the published BULSTAT check digit). ``BG`` prefix allowed.
pl_nip     Polish NIP, 10 digits (python-stdnum ``pl.nip``). ``PL`` prefix allowed.
hu_tax     Hungarian tax number: the 8-digit base (python-stdnum ``hu.anum``) or the full
           11-digit adószám ``12345678-1-23``; stored as the 8-digit base, which alone
           identifies the taxpayer. ``HU`` prefix allowed.
kz_bin     Kazakh BIN/IIN, 12 digits with the published mod-11 check digit.
de_vat     German VAT number (USt-IdNr.), 9 digits (python-stdnum ``de.vat``). ``DE`` prefix
           allowed. The de flow's practices and clinics are filed under it.
=========  ==========================================================================

The Bulgarian and Polish rules are those of :mod:`dialogs.taxids`, the very functions the
``bg_eik`` and ``pl_nip`` answer validators use, so what the import stores is exactly what a
customer's answer becomes (spaces, dashes, prefixes and full-width digits included).
"""

from __future__ import annotations

from collections.abc import Callable

from stdnum import exceptions as stdnum_errors
from stdnum.de import vat as de_vat
from stdnum.hu import anum

from dialogs.taxids import compact, normalise_bg_eik, normalise_pl_nip

SCHEMES: tuple[str, ...] = ("bg_eik", "pl_nip", "hu_tax", "kz_bin", "de_vat")

_KZ_WEIGHTS = (tuple(range(1, 12)), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))


_compact = compact


def valid_bg_eik(value: str) -> bool:
    """True for a 9- or 13-digit EIK/BULSTAT with correct check digit(s)."""
    try:
        normalise_bg_eik(value)
    except ValueError:
        return False
    return True


def kz_check_digit(first11: str) -> int | None:
    """The BIN/IIN check digit of 11 digits, or None when no valid number can end them."""
    digits = [int(d) for d in first11]
    for weights in _KZ_WEIGHTS:
        remainder = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def _kz_bin(value: str) -> str:
    digits = _compact(value, "KZ")
    if not digits.isdigit() or len(digits) != 12:
        raise ValueError("a BIN/IIN has 12 digits")
    if kz_check_digit(digits[:11]) != int(digits[11]):
        raise ValueError("the BIN/IIN check digit does not match")
    return digits


def _hu_tax(value: str) -> str:
    digits = _compact(value, "HU")
    if len(digits) == 11 and digits.isdigit():
        if digits[8] not in "12345":
            raise ValueError("the 9th digit of a Hungarian tax number is 1 to 5")
        digits = digits[:8]
    try:
        return str(anum.validate(digits))
    except stdnum_errors.InvalidChecksum as exc:
        raise ValueError("the tax number check digit does not match") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValueError("a Hungarian tax number has 8 or 11 digits") from exc


def _de_vat(value: str) -> str:
    try:
        return str(de_vat.validate(value))
    except stdnum_errors.InvalidChecksum as exc:
        raise ValueError("the USt-IdNr. check digit does not match") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValueError("a USt-IdNr. has 9 digits after DE") from exc


_NORMALISERS: dict[str, Callable[[str], str]] = {
    "bg_eik": normalise_bg_eik,
    "pl_nip": normalise_pl_nip,
    "hu_tax": _hu_tax,
    "kz_bin": _kz_bin,
    "de_vat": _de_vat,
}


def normalise_tax_id(scheme: str, value: str) -> str:
    """The tax id as stored (digits only), or ValueError with a reason a person can act on."""
    normaliser = _NORMALISERS.get(scheme)
    if normaliser is None:
        raise ValueError(f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    return normaliser(value)
