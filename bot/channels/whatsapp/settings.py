"""WhatsApp's settings (issue 18), a part of :class:`bot.config.Settings` (which inherits them):
unset = no WhatsApp channel. Validated here, with the rest of the settings' rules in
bot/config.py (how a wrong value is told: the variable, what it must be; secrets never shown).
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from dialogs.i18n import SUPPORTED_LOCALES


class WhatsAppSettings(BaseSettings):
    whatsapp_token: SecretStr | None = Field(
        None, description="Cloud API access token (a system user's permanent token)"
    )
    whatsapp_app_secret: SecretStr | None = Field(
        None, description="The Meta app's secret: signs every webhook POST (X-Hub-Signature-256)"
    )
    whatsapp_verify_token: SecretStr | None = Field(
        None, description="Any string of ours, typed into the dashboard's webhook settings too"
    )
    whatsapp_phone_number_id: str | None = Field(
        None, description="The business phone number's id (not the number itself)"
    )
    whatsapp_api_base: str = Field("https://graph.facebook.com", description="Graph API server")
    whatsapp_api_version: str = Field("v21.0", description="Graph API version")
    whatsapp_webhook_path: str = Field("/whatsapp/webhook", description="Callback URL's path")
    whatsapp_template: str = Field(
        "onboard_reply", description="Approved template sent outside the 24-hour window"
    )
    whatsapp_templates: str = Field(
        "", description="Its name per language where it differs, e.g. bg=onboard_reply_bg"
    )
    whatsapp_template_languages: str = Field(
        "", description="Template language codes where not the locale, e.g. en=en_US"
    )
    whatsapp_number_rate: float = Field(
        80.0, ge=0.1, le=1000, description="Messages a second from our number to all customers"
    )
    whatsapp_pair_rate: float = Field(
        0.17, ge=0.01, le=100, description="Messages a second to one customer (after the burst)"
    )
    whatsapp_pair_burst: int = Field(
        20, ge=1, le=45, description="Messages to one customer at once before the pair rate"
    )
    whatsapp_pair_hold_seconds: float = Field(
        6.0, ge=0.01, le=600, description="A 131056 (pair rate limit) holds that customer so long"
    )
    whatsapp_media_max_mb: int = Field(
        20, ge=1, le=100, description="Largest customer file relayed to the agents' group"
    )

    @field_validator("whatsapp_phone_number_id")
    @classmethod
    def _number_id(cls, value: str | None) -> str | None:
        if value is not None and not value.isdigit():
            raise ValueError("must be the digits of the phone number id from the API Setup page")
        return value

    @field_validator("whatsapp_templates", "whatsapp_template_languages")
    @classmethod
    def _per_locale(cls, value: str) -> str:
        per_locale(value)
        return value

    @field_validator("whatsapp_api_base")
    @classmethod
    def _graph_address(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// address")
        return value

    @model_validator(mode="after")
    def _whatsapp_complete(self) -> Self:
        """The WhatsApp settings come as a set: all four, or none."""
        names = ("whatsapp_token", "whatsapp_app_secret", "whatsapp_verify_token")
        given = [n for n in (*names, "whatsapp_phone_number_id") if getattr(self, n)]
        if given and len(given) < 4:
            missing = [n.upper() for n in (*names, "whatsapp_phone_number_id") if n not in given]
            raise ValueError(f"WhatsApp needs {', '.join(missing)} as well")
        return self

    @property
    def whatsapp(self) -> bool:
        """True when the WhatsApp channel is configured."""
        return self.whatsapp_phone_number_id is not None

    @property
    def whatsapp_template_names(self) -> dict[str, str]:
        return per_locale(self.whatsapp_templates)

    @property
    def whatsapp_languages(self) -> dict[str, str]:
        return per_locale(self.whatsapp_template_languages)


def per_locale(value: str) -> dict[str, str]:
    """``bg=name_bg,hu=name_hu`` → ``{"bg": "name_bg", "hu": "name_hu"}``."""
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        locale, sep, name = part.partition("=")
        locale, name = locale.strip(), name.strip()
        if not sep or locale not in SUPPORTED_LOCALES or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise ValueError(
                f"must be LOCALE=NAME pairs separated by commas (locales: "
                f"{', '.join(SUPPORTED_LOCALES)}; names of letters, digits and _)"
            )
        pairs[locale] = name
    return pairs
