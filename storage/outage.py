"""Is this failure an outage of Redis or the database (try again later) or something else?

An outage must never be told to the customer as an error, and never confirmed to Telegram:
the webhook answers 503 (Telegram redelivers) and polling keeps the update's offset.
"""

from __future__ import annotations

from asyncpg.exceptions import (
    InterfaceError as PgInterfaceError,
)
from asyncpg.exceptions import (
    OperatorInterventionError,
    PostgresConnectionError,
)
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_OUTAGES = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
    ClusterDownError,  # a Redis Cluster without a primary for a slot (a failover under way)
    MasterDownError,
    SlotNotCoveredError,
    TryAgainError,  # a slot's migration longer than the router waits
    OperationalError,
    InterfaceError,
    PoolTimeout,
    PostgresConnectionError,
    OperatorInterventionError,  # pg_terminate_backend, a server shutting down
    PgInterfaceError,  # "connection is closed"
    ConnectionError,
    TimeoutError,
)


def is_outage(exc: BaseException) -> bool:
    """True for a lost or refused connection to a store, along the exception's causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGES):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False
