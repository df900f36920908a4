"""Answer validators, by name, for ``ask`` steps. Each returns the normalised answer or raises
:class:`Invalid`; the step then re-asks with the validator's (or the flow's) message."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from dialogs.i18n import N_
from dialogs.taxids import CheckDigitError, normalise_bg_eik, normalise_pl_nip

NIP_CHECK_DIGIT = N_(
    "This NIP has a wrong check digit (its last digit does not fit the others), so one of the "
    "digits is mistyped. Please compare it with your order and send it again."
)


class Invalid(ValueError):
    """The answer does not have the expected form; ``message`` (a msgid) says what is wrong
    when that is more precise than the validator's default message."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.message = message


Validator = Callable[[str], str]


def bg_eik(value: str) -> str:
    try:
        return normalise_bg_eik(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


@functools.lru_cache(maxsize=1024)
def email(value: str) -> str:
    """Syntax and normalisation only: no DNS look-up on the hot path. Remembered for the
    last addresses: the step that asks and the CRM match that follows each check it, and
    email-validator costs ~40 µs a call (``python -m bench --profile``)."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(str(exc)) from exc
    return result.normalized.lower()


def text(value: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > 200:
        raise Invalid("empty or too long")
    return cleaned


def phone(value: str, region: str | None = None) -> str:
    """Any plausible phone number as E.164; ``region`` is used for national formats."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("not a valid number")
    if region and phonenumbers.region_code_for_number(number) != region.upper():
        raise Invalid("not a number of the expected country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def pl_nip(value: str) -> str:
    """Seed 004: ten digits (asked without dashes; dashes and spaces are accepted and dropped,
    as the CRM import does); the check digit must match."""
    try:
        return normalise_pl_nip(value)
    except CheckDigitError as exc:
        raise Invalid(str(exc), NIP_CHECK_DIGIT) from exc
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


_E164 = re.compile(r"\+[1-9]\d{6,14}")


def display_phone(number: str) -> str:
    """An E.164 number as people write it (``+7 702 555 0101``, ``+36 30 123 4567``): the
    international format of its own country's numbering plan; anything else unchanged."""
    if not _E164.fullmatch(number):
        return number
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def pl_phone(value: str) -> str:
    """Seed 004: nine digits without +48."""
    digits = "".join(value.split())
    if not (digits.isdigit() and len(digits) == 9):
        raise Invalid("nine digits without +48")
    return phone(digits, "PL")


def is_mobile(number: str) -> bool:
    """True when the E.164 ``number`` can receive SMS (mobile, or fixed-or-mobile)."""
    return phonenumbers.number_type(phonenumbers.parse(number)) in _MOBILE


def kz_mobile(value: str) -> str:
    """Seed 002: a Kazakh mobile number (+7 7xx ...), national or international format."""
    number = phone(value, "KZ")
    if not is_mobile(number):
        raise Invalid("not a mobile number")
    return number


def contract_number(value: str) -> str:
    """Seed 004: one upper-case letter and six digits (lower case is accepted and raised)."""
    cleaned = "".join(value.split()).upper()
    if not _CONTRACT.fullmatch(cleaned):
        raise Invalid("one letter and six digits")
    return cleaned


_HU_POLICY = re.compile(r"HU-?(\d{4})-?(\d{4,6})")


def hu_policy(value: str) -> str:
    """Seed 001's policy number, ``HU-2024-0001``: spaces ignored, dashes optional, any case."""
    match = _HU_POLICY.fullmatch("".join(value.split()).upper())
    if match is None:
        raise Invalid("HU, the year and four to six digits")
    return f"HU-{match.group(1)}-{match.group(2)}"


def serial(value: str) -> str:
    """A device serial or a licence key; a licence key keeps its dashes (seed 004)."""
    cleaned = "".join(value.split()).upper()
    if not _SERIAL.fullmatch(cleaned):
        raise Invalid("letters, digits and dashes")
    return cleaned


_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
_CONTRACT = re.compile(r"[A-Z]\d{6}")
_SERIAL = re.compile(r"[A-Z0-9][A-Z0-9-]{2,79}")

VALIDATORS: dict[str, Validator] = {
    "bg_eik": bg_eik,
    "email": email,
    "text": text,
    "pl_nip": pl_nip,
    "pl_phone": pl_phone,
    "kz_mobile": kz_mobile,
    "contract_number": contract_number,
    "serial": serial,
    "hu_policy": hu_policy,
}

DEFAULT_INVALID: dict[str, str] = {
    "bg_eik": N_(
        "An EIK has 9 or 13 digits and ends in a check digit. Please check it and send it again."
    ),
    "email": N_("That does not look like an e-mail address. Please send it as name@example.com."),
    "text": N_("Please send a short text (up to 200 characters)."),
    "pl_nip": N_(
        "A NIP has 10 digits, written without dashes, for example 8567346215. "
        "Please check it and send it again."
    ),
    "pl_phone": N_("Please send your phone number as 9 digits without +48, for example 601234567."),
    "kz_mobile": N_(
        "Please send your mobile number, for example +7 701 123 4567. "
        "Check the number carefully: registration is not possible with a wrong one."
    ),
    "contract_number": N_(
        "A contract number is one capital letter and six digits, for example A123456."
    ),
    "serial": N_(
        "Please send the serial number of one device on this contract, or the licence key "
        "with its dashes, exactly as on the label or certificate."
    ),
    "hu_policy": N_(
        "A policy number looks like HU-2024-0001: HU, the year and four to six digits."
    ),
}
