"""Settings from the environment and ``.env`` (pydantic-settings). Nothing else reads os.environ."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///onboard.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = Field(
        None, description="Telegram bot token; unset = terminal chat"
    )
    telegram_api_base: str = Field("https://api.telegram.org", description="Bot API server")
    webhook_url: str | None = Field(None, description="Public HTTPS URL Telegram posts updates to")
    webhook_secret: SecretStr | None = Field(None, description="X-Telegram-Bot-Api-Secret-Token")
    webhook_path: str = "/telegram/webhook"
    host: str = Field("127.0.0.1", description="Address the web server listens on")
    port: int = Field(8080, description="Port of the web server (webhook + pages)")
    public_url: str = Field("http://127.0.0.1:8080", description="Base URL of the web pages")
    portal_url: str = Field("https://portal.example.com", description="The customer portal")
    redis_url: str | None = Field(None, description="Redis for conversation state; unset = SQL")
    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the records")
    state_ttl_days: int = Field(30, description="Abandoned conversations expire after this")
    default_flow: str | None = Field("bg-subscription-portal", description="Flow of a bare /start")
    secret_key: SecretStr | None = Field(None, description="Keys code hashes; generated if unset")
    log_level: str = "INFO"

    @property
    def state_ttl_seconds(self) -> int:
        return self.state_ttl_days * 86_400
