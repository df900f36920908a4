"""What the settings choose behind the composition root (bot/app.py): the conversation store
(Redis or SQL), the live CRM connector and the shared cap per address."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from dialogs.errors import ConfigError
from dialogs.flow import FlowRegistry
from dialogs.ports import Clock, SendLimiter, StateStore
from storage.crm_client import CrmConfig
from storage.limits import SqlSendLimiter


def build_state_store(settings: Settings, db: AsyncEngine, clock: Clock) -> StateStore:
    if settings.redis_url:
        from storage.redis_state import RedisStateStore  # noqa: PLC0415 - only when configured

        return RedisStateStore.from_url(settings.redis_url, ttl_seconds=settings.state_ttl_seconds)
    from storage.sql_state import SqlStateStore  # noqa: PLC0415

    pooled = settings.pooling.transaction
    return SqlStateStore(db, ttl_seconds=settings.state_ttl_seconds, clock=clock, pooled=pooled)


def crm_config(settings: Settings, flows: FlowRegistry) -> CrmConfig | None:
    """The live CRM connector's settings, or None when CRM_LOOKUP_URL is unset."""
    if not settings.crm_lookup_url:
        return None
    if settings.crm_lookup_token is None:
        raise ConfigError("CRM_LOOKUP_TOKEN must be set when CRM_LOOKUP_URL is")
    unknown = sorted((settings.crm_flows or frozenset()) - {flow.id for flow in flows})
    if unknown:
        raise ConfigError(f"CRM_LOOKUP_FLOWS names unknown flows: {', '.join(unknown)}")
    return CrmConfig(
        url=settings.crm_lookup_url,
        token=settings.crm_lookup_token.get_secret_value(),
        auth=settings.crm_lookup_auth,
        timeout=settings.crm_lookup_timeout_ms / 1000,
        retries=settings.crm_lookup_retries,
        cache_seconds=settings.crm_cache_seconds,
        min_seconds=settings.crm_lookup_min_ms / 1000,
        breaker_failures=settings.crm_breaker_failures,
        breaker_seconds=settings.crm_breaker_seconds,
    )


def build_send_limiter(settings: Settings, db: AsyncEngine) -> SendLimiter:
    """The cap per address across conversations: in Redis when configured, else in SQL."""
    if settings.redis_url:
        from storage.limits import RedisSendLimiter  # noqa: PLC0415 - only when configured

        return RedisSendLimiter.from_url(settings.redis_url)
    return SqlSendLimiter(db)
