"""Answer validators, by name, for ``ask`` steps. Each returns the normalised answer or raises
:class:`Invalid`; the step then re-asks with the validator's (or the flow's) message."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from dialogs.i18n import N_
from dialogs.taxids import normalise_bg_eik


class Invalid(ValueError):
    """The answer does not have the expected form."""


Validator = Callable[[str], str]


def bg_eik(value: str) -> str:
    try:
        return normalise_bg_eik(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


def email(value: str) -> str:
    """Syntax and normalisation only: no DNS look-up on the hot path."""
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


VALIDATORS: dict[str, Validator] = {"bg_eik": bg_eik, "email": email, "text": text}

DEFAULT_INVALID: dict[str, str] = {
    "bg_eik": N_(
        "An EIK has 9 or 13 digits and ends in a check digit. Please check it and send it again."
    ),
    "email": N_("That does not look like an e-mail address. Please send it as name@example.com."),
    "text": N_("Please send a short text (up to 200 characters)."),
}
