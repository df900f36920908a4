from __future__ import annotations

import pytest

from dialogs.taxids import is_valid_bg_eik, normalise_bg_eik
from dialogs.validators import Invalid, email, phone


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
