from __future__ import annotations

import pytest

from dialogs.taxids import is_valid_bg_eik, normalise_bg_eik
from dialogs.validators import (
    Invalid,
    contract_number,
    email,
    kz_mobile,
    phone,
    pl_nip,
    pl_phone,
    serial,
)


@pytest.mark.parametrize("eik", ["831902088", "121604974", "130460283", "175074752"])
def test_valid_nine_digit_eiks(eik: str) -> None:
    assert normalise_bg_eik(eik) == eik


def test_thirteen_digit_eik_of_a_branch() -> None:
    assert normalise_bg_eik("1750747520004") == "1750747520004"
    assert not is_valid_bg_eik("1750747520005")


@pytest.mark.parametrize("raw", ["BG 175 074 752", " 175-074-752 "])
def test_eik_is_normalised(raw: str) -> None:
    assert normalise_bg_eik(raw) == "175074752"


@pytest.mark.parametrize("eik", ["175074753", "12345", "1750747521", "abcdefghi", ""])
def test_invalid_eiks(eik: str) -> None:
    assert not is_valid_bg_eik(eik)


def test_email_is_normalised_without_dns() -> None:
    assert email("  Demo@Example.COM ") == "demo@example.com"
    with pytest.raises(Invalid):
        email("demo@")


def test_phone_national_format() -> None:
    assert phone("088 123 4567", "BG") == "+359881234567"
    with pytest.raises(Invalid):
        phone("+48 601 234 567", "BG")


def test_pl_nip_digits_only_with_check_digit() -> None:
    for same in [" 8567346215 ", "856-734-62-15", "PL8567346215", "８５６７３４６２１５"]:
        assert pl_nip(same) == "8567346215"  # what the CRM import accepts too
    for bad in ["8567346216", "856734621", "DE8567346215", "85673462155"]:
        with pytest.raises(Invalid):
            pl_nip(bad)


def test_pl_phone_nine_digits_without_country_code() -> None:
    assert pl_phone("601 234 567") == "+48601234567"
    for bad in ["+48601234567", "48601234567", "60123456"]:
        with pytest.raises(Invalid):
            pl_phone(bad)


def test_kz_mobile() -> None:
    assert kz_mobile("8 701 123 4567") == "+77011234567"
    assert kz_mobile("+7 701 123 4567") == "+77011234567"
    with pytest.raises(Invalid):
        kz_mobile("+7 727 123 4567")  # an Almaty landline
    with pytest.raises(Invalid):
        kz_mobile("+359 88 123 4567")


def test_contract_number_and_serial() -> None:
    assert contract_number("a123456") == "A123456"
    for bad in ["AB12345", "A12345", "1234567", "A1234567"]:
        with pytest.raises(Invalid):
            contract_number(bad)
    assert serial(" abcd-1234-efgh-5678 ") == "ABCD-1234-EFGH-5678"
    assert serial("FCW2231L0AB") == "FCW2231L0AB"
    with pytest.raises(Invalid):
        serial("??")
