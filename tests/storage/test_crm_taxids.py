"""Tax identifiers of the CRM schemes: check digits against published numbers and rules."""

from __future__ import annotations

import random

import pytest
from stdnum.bg import vat as bg_vat

from storage.taxids import kz_check_digit, normalise_tax_id, valid_bg_eik


def _reference_eik13_check(digits12: str) -> str:
    """The published BULSTAT rule, written out independently of the code under test."""
    d = [int(c) for c in digits12[8:12]]
    first = (2 * d[0] + 7 * d[1] + 3 * d[2] + 5 * d[3]) % 11
    if first != 10:
        return str(first)
    second = (4 * d[0] + 9 * d[1] + 5 * d[2] + 7 * d[3]) % 11
    return "0" if second == 10 else str(second)


@pytest.mark.parametrize(
    "eik",
    [
        "175074752",
        "BG175074752",
        "175 074 752",
        "121005553",
        "1750747520004",  # first weights
        "1750747520154",  # first remainder 10: second weights
        "1750747520360",  # both remainders 10: check digit 0
    ],
)
def test_valid_bg_eik(eik: str) -> None:
    assert valid_bg_eik(eik)


@pytest.mark.parametrize(
    "eik", ["175074753", "1750747520005", "1750747520150", "17507475", "17507475200", "abc"]
)
def test_invalid_bg_eik(eik: str) -> None:
    assert not valid_bg_eik(eik)


def test_bg_eik_13_digits_agree_with_the_published_rule() -> None:
    rng = random.Random(20240601)
    for _ in range(2000):
        head = "".join(rng.choice("0123456789") for _ in range(8))
        nine = head + bg_vat.calc_check_digit_legal(head)
        twelve = nine + "".join(rng.choice("0123456789") for _ in range(3))
        right = _reference_eik13_check(twelve)
        assert valid_bg_eik(twelve + right)
        wrong = str((int(right) + 1 + rng.randrange(9)) % 10)
        assert not valid_bg_eik(twelve + wrong)


@pytest.mark.parametrize(
    ("scheme", "raw", "stored"),
    [
        ("bg_eik", " BG 175-074-752 ", "175074752"),
        ("pl_nip", "PL 856-734-62-15", "8567346215"),
        ("hu_tax", "HU-12892312", "12892312"),
        ("hu_tax", "12892312-2-41", "12892312"),
        ("kz_bin", "940140000385", "940140000385"),  # published BINs of two banks
        ("kz_bin", "971240001315", "971240001315"),
        ("kz_bin", "9405 0000 0123", "940500000123"),
        ("de_vat", "DE 136 695 976", "136695976"),  # the USt-IdNr. in the EU's VIES examples
    ],
)
def test_normalise_tax_id(scheme: str, raw: str, stored: str) -> None:
    assert normalise_tax_id(scheme, raw) == stored


@pytest.mark.parametrize(
    ("scheme", "raw", "reason"),
    [
        ("bg_eik", "175074753", "check digit"),
        ("bg_eik", "12345", "9 or 13 digits"),
        ("pl_nip", "8567346216", "check digit"),
        ("pl_nip", "856734621", "10 digits"),
        ("hu_tax", "12892313", "check digit"),
        ("hu_tax", "12892312-7-41", "9th digit"),
        ("kz_bin", "940140000386", "check digit"),
        ("kz_bin", "94014000038", "12 digits"),
        ("de_vat", "DE136695977", "check digit"),
        ("de_vat", "DE13669597", "9 digits"),
        ("ro_cui", "123", "unknown scheme"),
    ],
)
def test_normalise_tax_id_rejects_with_reason(scheme: str, raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_tax_id(scheme, raw)


def test_kz_check_digit_has_no_answer_when_both_remainders_are_ten() -> None:
    rng = random.Random(7)
    seen_none = False
    for _ in range(5000):
        first11 = "".join(rng.choice("0123456789") for _ in range(11))
        digit = kz_check_digit(first11)
        if digit is None:
            seen_none = True
            assert not any(valid_kz(first11 + str(d)) for d in range(10))
        else:
            assert valid_kz(first11 + str(digit))
    assert seen_none


def valid_kz(value: str) -> bool:
    try:
        normalise_tax_id("kz_bin", value)
    except ValueError:
        return False
    return True
