"""Settings from the environment and ``.env`` (pydantic-settings). Nothing else reads os.environ."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///onboard.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = Field(
        None, description="Telegram bot token; unset = terminal chat"
    )
    telegram_api_base: str = Field("https://api.telegram.org", description="Bot API server")
    bot_username: str | None = Field(None, description="The bot's @username, for t.me links")
    invitation_ttl_days: int = Field(14, ge=1, description="Invitation links expire after this")
    webhook_url: str | None = Field(None, description="Public HTTPS URL Telegram posts updates to")
    webhook_secret: SecretStr | None = Field(None, description="X-Telegram-Bot-Api-Secret-Token")
    webhook_path: str = "/telegram/webhook"
    telegram_rate_limits: bool = Field(
        True, description="Pace outgoing messages (1/s per chat, 20/min per group, 30/s in all)"
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on")
    port: int = Field(8080, description="Port of the web server (webhook + pages)")
    public_url: str = Field("http://127.0.0.1:8080", description="Base URL of the web pages")
    portal_url: str = Field("https://portal.example.com", description="The customer portal")
    password_link_ttl_minutes: int = Field(30, ge=1, description="Lifetime of hand-off links")
    portal_handoff_url: str | None = Field(None, description="Company portal that redeems links")
    portal_handoff_secret: SecretStr | None = Field(None, description="Portal's redeem secret")
    redis_url: str | None = Field(None, description="Redis for conversation state; unset = SQL")
    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the records")
    state_ttl_days: int = Field(30, description="Abandoned conversations expire after this")
    default_flow: str | None = Field("bg-subscription-portal", description="Flow of a bare /start")
    secret_key: SecretStr | None = Field(None, description="Keys code hashes; generated if unset")
    log_level: str = "INFO"
    # -- delivery of codes and links (e-mail over SMTP, SMS through an HTTP gateway) --------
    smtp_host: str | None = Field(None, description="SMTP server; unset = mails are printed")
    smtp_port: int = Field(587, description="SMTP port")
    smtp_security: Literal["none", "starttls", "tls"] = Field("starttls", description="SMTP TLS")
    smtp_user: str | None = Field(None, description="SMTP login")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    mail_from: str = Field("onboard@localhost", description="Sender address of the mails")
    sms_gateway_url: str | None = Field(None, description="HTTP JSON SMS gateway; unset = log")
    sms_gateway_token: SecretStr | None = Field(None, description="Bearer token of the gateway")
    # -- support tickets: the agents' group -------------------------------------------------
    support_chat_id: int | None = Field(None, description="Agents' group; unset = no relay")
    support_topics: Literal["auto", "on", "off"] = Field(
        "auto", description="One forum topic per ticket; auto = when the group is a forum"
    )
    support_locale: str = Field("en", description="Language of ticket cards in the group")

    @property
    def state_ttl_seconds(self) -> int:
        return self.state_ttl_days * 86_400
