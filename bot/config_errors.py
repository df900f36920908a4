"""What a wrong setting is told as: one line per problem, naming the variable, what it must be
and what it was (never a secret's value, never a URL's password)."""

from __future__ import annotations

import re
from typing import Any

URL_PASSWORD = re.compile(r"://([^:/@\s]*):[^@\s]*@")
SECRET_SETTINGS = (
    "bot_token",
    "webhook_secret",
    "secret_key",
    "smtp_password",
    "whatsapp_token",
    "whatsapp_app_secret",
    "whatsapp_verify_token",
)


def problem(error: Any) -> str:
    """One line for one of pydantic's validation errors."""
    if not error["loc"]:  # a rule across settings: its input is all of them, secrets too
        return _expected(error)
    name = str(error["loc"][0])
    secret = name in SECRET_SETTINGS or name.endswith(("_token", "_secret", "_password"))
    shown = "a value that is not shown" if secret else repr(_masked(error.get("input")))
    return f"{name.upper()} {_expected(error)}, got {shown}"


def _masked(value: object) -> object:
    """A URL's password never reaches the terminal."""
    return URL_PASSWORD.sub(r"://\1:***@", value) if isinstance(value, str) else value


def _expected(error: Any) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return "must be a number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind == "greater_than_equal":
        return f"must be at least {_number(context['ge'])}"
    if kind == "less_than_equal":
        return f"must be at most {_number(context['le'])}"
    if kind == "literal_error":
        return f"must be one of {context['expected']}"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    return str(error["msg"]).lower()


def _number(bound: float) -> float:
    """A bound as it was written in the settings (1000, not 1000.0)."""
    return int(bound) if float(bound).is_integer() else bound
