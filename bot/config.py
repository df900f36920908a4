"""Settings from the environment and ``.env`` (pydantic-settings). Nothing else reads os.environ."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from bot.channels.whatsapp.settings import WhatsAppSettings
from bot.config_errors import problem
from bot.web.forwarded import Network, parse_networks
from dialogs.errors import ConfigError
from dialogs.zones import DEFAULT_ZONES, parse_zones

if TYPE_CHECKING:
    from storage.db import Pooling

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///onboard.db"
BOT_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")  # noqa: S104 - names, not a bind


class Settings(WhatsAppSettings):
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
    telegram_chat_rate: float = Field(
        1.0, ge=0.01, le=100, description="Messages a second to one private chat (burst of 3)"
    )
    telegram_group_limit: int = Field(
        20, ge=1, le=1000, description="Messages to one group or channel in any window"
    )
    telegram_group_window_seconds: float = Field(
        60.0, ge=1, le=3600, description="The window of TELEGRAM_GROUP_LIMIT, in seconds"
    )
    telegram_bot_rate: float = Field(
        30.0, ge=0.1, le=1000, description="Messages a second from the bot to all chats"
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on")
    port: int = Field(8080, ge=1, le=65535, description="Port of the web server (webhook + pages)")
    public_url: str = Field("", description="Base URL of the web pages; unset = http://HOST:PORT")
    portal_url: str = Field("https://portal.example.com", description="The customer portal")
    password_link_ttl_minutes: int = Field(30, ge=1, description="Lifetime of hand-off links")
    miniapp_max_age_seconds: int = Field(
        3600, ge=60, description="Mini App sign-in data (initData) older than this is refused"
    )
    portal_handoff_url: str | None = Field(None, description="Company portal that redeems links")
    portal_handoff_secret: SecretStr | None = Field(None, description="Portal's redeem secret")
    redis_url: str | None = Field(
        None, description="Redis (redis://) or a Redis Cluster (redis+cluster://); unset = SQL"
    )
    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the records")
    database_pooling: Literal["session", "transaction"] = Field(
        "session", description="transaction: behind PgBouncer's pool_mode=transaction"
    )
    database_pool_size: int = Field(
        32, ge=4, le=1000, description="PostgreSQL connections per worker process, at most"
    )
    forwarded_allow_ips: str = Field(
        "", description="Proxies trusted for X-Forwarded-For (IPs/CIDRs, commas); unset = none"
    )
    state_ttl_days: int = Field(30, ge=1, description="Abandoned conversations expire after this")
    default_flow: str | None = Field("bg-subscription-portal", description="Flow of a bare /start")
    secret_key: SecretStr | None = Field(None, description="Keys code hashes; generated if unset")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    log_format: Literal["plain", "json"] = Field("plain", description="json: one object a line")
    funnel_abandoned_hours: int = Field(
        24, ge=1, description="onboard funnel: silent this long at a step = gave up there"
    )
    funnel_retention_days: int = Field(
        365, ge=1, description="The funnel's step events are deleted after this many days"
    )
    # -- privacy (issue 20): the notice's policy link, /forget, and how long records live --
    privacy_url: str = Field(
        "https://example.com/privacy", description="The privacy policy the notice links"
    )
    forget_tickets: Literal["anonymise", "delete"] = Field(
        "anonymise", description="/forget: keep tickets as anonymised records, or delete them"
    )
    retain_finished_days: int = Field(
        30, ge=1, le=3650, description="Finished conversations are deleted after this"
    )
    retain_closed_tickets_days: int = Field(
        365, ge=1, le=3650, description="Closed tickets (and their messages) after this"
    )
    retain_human_requests_days: int = Field(
        180, ge=1, le=3650, description="Requests for a person without an open ticket after this"
    )
    retain_owed_days: int = Field(
        7, ge=1, le=365, description="Replies and effects still undelivered after this"
    )
    retain_tokens_days: int = Field(
        30, ge=1, le=3650, description="Used or expired links, tokens, invitations after this"
    )
    retain_counters_hours: int = Field(
        24, ge=1, le=720, description="Idle send counters (the cap per address) after this"
    )
    # -- delivery of codes and links (e-mail over SMTP, SMS through an HTTP gateway) --------
    smtp_host: str | None = Field(None, description="SMTP server; unset = mails are printed")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port")
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
    time_zones: str = Field(
        "", description="Zone of times shown per language, e.g. pl=Europe/Warsaw; unset = country's"
    )
    # -- the company's CRM asked live over HTTP (issue 21, docs/crm-api.yaml) -----------------
    crm_lookup_url: str | None = Field(None, description="CRM look-up API; unset = local copy")
    crm_lookup_token: SecretStr | None = Field(None, description="Bearer token or HMAC key")
    crm_lookup_auth: Literal["bearer", "hmac"] = Field("bearer", description="How we sign in")
    crm_lookup_flows: str = Field("", description="Flow ids asking the CRM live; empty = all")
    crm_lookup_timeout_ms: int = Field(2000, ge=50, le=60_000, description="Per attempt")
    crm_lookup_retries: int = Field(2, ge=0, le=5, description="Retries of a failed look-up")
    crm_lookup_min_ms: int = Field(
        300, ge=0, le=10_000, description="Every look-up takes at least this long (no timing leak)"
    )
    crm_cache_seconds: int = Field(30, ge=0, le=3600, description="How long a match is cached")
    crm_breaker_failures: int = Field(5, ge=1, le=100, description="Failures that open the circuit")
    crm_breaker_seconds: int = Field(30, ge=1, le=3600, description="How long it stays open")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not BOT_TOKEN_SHAPE.fullmatch(value.get_secret_value()):
            raise ValueError("must look like 123456789:AAE… (the token @BotFather gave you)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator(
        "public_url",
        "telegram_api_base",
        "portal_url",
        "webhook_url",
        "crm_lookup_url",
        "privacy_url",
    )
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value and not re.match(r"https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// address")
        return value

    @field_validator("time_zones")
    @classmethod
    def _zones(cls, value: str) -> str:
        parse_zones(value)
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        from storage.redis_cluster import check_redis_url  # noqa: PLC0415 - redis only when set

        if value:
            check_redis_url(value)
        return value or None

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        from storage.db import async_url  # noqa: PLC0415 - SQLAlchemy only when needed

        try:
            async_url(value)
        except ValueError as exc:  # SQLAlchemy's ArgumentError is a ValueError too
            raise ValueError(
                "must be sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB"
                f" ({str(exc).rstrip('.')})"
            ) from None
        return value

    @model_validator(mode="after")
    def _pages_where_we_listen(self) -> Self:
        """Without PUBLIC_URL, links point at the address this server really listens on."""
        if not self.public_url:
            host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
            host = f"[{host}]" if ":" in host else host
            self.public_url = f"http://{host}:{self.port}"
        return self

    @property
    def crm_flows(self) -> frozenset[str] | None:
        """The flows that ask the CRM live (None: every flow)."""
        names = frozenset(name.strip() for name in self.crm_lookup_flows.split(",") if name.strip())
        return names or None

    @property
    def pooling(self) -> Pooling:
        """PostgreSQL connections per worker and whether PgBouncer pools transactions."""
        from storage.db import Pooling  # noqa: PLC0415 - SQLAlchemy only when needed

        return Pooling(self.database_pooling, self.database_pool_size)

    @property
    def trusted_proxies(self) -> tuple[Network, ...]:
        """The load balancers whose X-Forwarded-For is believed (bot/web/forwarded.py)."""
        return parse_networks(self.forwarded_allow_ips)

    @property
    def zones(self) -> dict[str, str]:
        """Each language's zone of shown times: the defaults, changed by TIME_ZONES."""
        return {**DEFAULT_ZONES, **parse_zones(self.time_zones)}

    @property
    def state_ttl_seconds(self) -> int:
        return self.state_ttl_days * 86_400


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold, for the logs' redactor (bot/ops/logs.py)."""
    values = [getattr(settings, name) for name in type(settings).model_fields]
    return [value.get_secret_value() for value in values if isinstance(value, SecretStr)]


def load_settings(**values: Any) -> Settings:
    """Settings from the environment and ``.env``; a wrong value is a :class:`ConfigError`
    whose lines each name the variable, what it must be and what it was."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError("\n".join(problem(error) for error in exc.errors())) from None
